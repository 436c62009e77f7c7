// Every setting, read from the environment (and `.env` when present) and validated with zod.
// A bad setting stops the program with one message listing every problem; secrets are never echoed.
import { existsSync } from "node:fs";
import { z } from "zod";

export const providerNames = [
  "evolink",
  "mjapi",
  "midjourney-proxy",
  "openai",
  "gemini",
  "bfl",
  "comfyui",
  "a1111",
] as const;
export type ProviderName = (typeof providerNames)[number];

function isProviderName(name: string): name is ProviderName {
  return (providerNames as readonly string[]).includes(name);
}

/** `PROVIDER`: one name or several, comma-separated (the first is the default); kept as "a,b". */
const providerList = z
  .string()
  .transform((value, context) => {
    const names = [...new Set(value.split(",").map((name) => name.trim()))].filter((name) => name !== "");
    const unknown = names.filter((name) => !isProviderName(name));
    if (names.length === 0 || unknown.length > 0) {
      const named = unknown.length > 0 ? ` (${unknown.map((name) => `"${name}"`).join(", ")} is not)` : "";
      context.addIssue({
        code: "custom",
        message: `must be one of: ${providerNames.join(", ")}${named}; several go comma-separated, the first is the default`,
      });
      return z.NEVER;
    }
    return names.join(",");
  })
  .default("evolink");

const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .optional();

const httpUrl = z
  .string()
  .trim()
  .refine((value) => /^https?:\/\/[^\s/]+/.test(value) && URL.canParse(value), {
    message: "must be an http(s) URL, e.g. https://example.com",
  })
  .transform((value) => value.replace(/\/+$/, ""));

/** One http(s) URL or several, comma-separated (a pool of machines); kept as "a,b" without trailing slashes. */
const httpUrlList = z
  .string()
  .trim()
  .transform((value, context) => {
    const urls = value
      .split(",")
      .map((url) => url.trim().replace(/\/+$/, ""))
      .filter((url) => url !== "");
    const bad = urls.filter((url) => !(/^https?:\/\/[^\s/]+/.test(url) && URL.canParse(url)));
    if (urls.length === 0 || bad.length > 0) {
      context.addIssue({ code: "custom", message: "must be one http(s) URL or several, comma-separated" });
      return z.NEVER;
    }
    return urls.join(",");
  });

const wholeNumber = (fallback: number, min: number, max: number) =>
  z.coerce
    .number({ message: "must be a whole number" })
    .int({ message: "must be a whole number" })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}` })
    .default(fallback);

/** `SHARD_IDS`: the gateway shards this process runs, e.g. "0,1"; kept as sorted unique numbers. */
const shardIdList = z
  .string()
  .trim()
  .transform((value, context) => {
    const parts = value.split(",").map((part) => part.trim());
    if (parts.some((part) => !/^\d+$/.test(part))) {
      context.addIssue({
        code: "custom",
        message: "must be shard ids: whole numbers from 0, comma-separated (e.g. 0,1)",
      });
      return z.NEVER;
    }
    return [...new Set(parts.map(Number))].sort((a, b) => a - b);
  });

/** One of `values`, written in any case (`DEBUG`, `Info`); kept lowercase. */
const anyCase = <const T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(values, { message: `must be one of: ${values.join(", ")} (any case)` }));

/** Names of settings whose values must never appear in output. */
export const secretSettings = new Set([
  "DISCORD_TOKEN",
  "EVOLINK_API_KEY",
  "MJAPI_API_KEY",
  "MIDJOURNEY_PROXY_API_KEY",
  "OPENAI_API_KEY",
  "GEMINI_API_KEY",
  "BFL_API_KEY",
  "A1111_AUTH",
  "REDIS_URL",
  "CALLBACK_SECRET",
]);

export const settingsSchema = z.object({
  DISCORD_TOKEN: optionalText,
  DISCORD_API_URL: httpUrl.optional(),
  DISCORD_GUILD_ID: optionalText.refine((value) => value === undefined || /^\d{17,20}$/.test(value), {
    message: "must be a server (guild) id: 17–20 digits",
  }),
  /** Set: Discord sends interactions to POST /interactions on HTTP_PORT, and the gateway is not used. */
  DISCORD_PUBLIC_KEY: optionalText.refine((value) => value === undefined || /^[0-9a-fA-F]{64}$/.test(value), {
    message:
      "must be the application's public key: 64 hex characters (Developer Portal → your application → General Information → Public Key)",
  }),
  SHARD_COUNT: z.coerce
    .number({ message: "must be a whole number" })
    .int({ message: "must be a whole number" })
    .min(1, { message: "must be at least 1" })
    .max(65_535, { message: "must be at most 65535" })
    .optional(),
  SHARD_IDS: shardIdList.optional(),
  PROVIDER: providerList,
  EVOLINK_API_KEY: optionalText,
  EVOLINK_BASE_URL: httpUrl.default("https://api.evolink.ai"),
  EVOLINK_MODEL: z.string().trim().min(1).default("mj-v8.1"),
  EVOLINK_VARIATION_MODEL: optionalText,
  MJAPI_API_KEY: optionalText,
  MJAPI_BASE_URL: httpUrl.optional(),
  MIDJOURNEY_PROXY_API_KEY: optionalText,
  MIDJOURNEY_PROXY_BASE_URL: httpUrl.optional(),
  OPENAI_API_KEY: optionalText,
  OPENAI_BASE_URL: httpUrl.default("https://api.openai.com/v1"),
  OPENAI_IMAGE_MODEL: z.string().trim().min(1).default("gpt-image-2"),
  GEMINI_API_KEY: optionalText,
  GEMINI_BASE_URL: httpUrl.default("https://generativelanguage.googleapis.com"),
  GEMINI_IMAGE_MODEL: z.string().trim().min(1).default("gemini-3.1-flash-image"),
  BFL_API_KEY: optionalText,
  BFL_BASE_URL: httpUrl.default("https://api.bfl.ai"),
  BFL_MODEL: z.string().trim().min(1).default("flux-pro-1.1"),
  COMFYUI_URL: httpUrlList.optional(),
  COMFYUI_WORKFLOW: optionalText,
  COMFYUI_CHECKPOINT: optionalText,
  COMFYUI_CONCURRENCY: wholeNumber(1, 1, 16),
  A1111_URL: httpUrlList.optional(),
  A1111_AUTH: optionalText.refine((value) => value === undefined || /^[^:]+:.+$/.test(value), {
    message: "must be user:password",
  }),
  A1111_UPSCALER: z.string().trim().min(1).default("R-ESRGAN 4x+"),
  DEFAULT_SPEED: z
    .enum(["draft", "fast", "turbo", "relax"], { message: "must be one of: draft, fast, turbo, relax" })
    .default("fast"),
  DEFAULT_QUALITY: z
    .enum(["standard", "hd"], { message: "must be one of: standard, hd" })
    .default("standard"),
  PUBLIC_URL: httpUrl.optional().refine((value) => value === undefined || value.startsWith("https://"), {
    message: "must be an https:// URL that reaches this bot (providers only call HTTPS)",
  }),
  HTTP_PORT: wholeNumber(8080, 0, 65535),
  CALLBACK_SECRET: optionalText,
  DATA_DIR: z.string().trim().min(1).default("./data"),
  REDIS_URL: optionalText.refine((value) => value === undefined || /^rediss?:\/\//.test(value), {
    message: "must start with redis:// or rediss://",
  }),
  /** With REDIS_URL: how long a process's claim on a job lasts unrenewed before another process takes the job over. */
  JOB_TAKEOVER_SECONDS: z.coerce
    .number({ message: "must be a number of seconds" })
    .min(0.5, { message: "must be at least 0.5" })
    .max(600, { message: "must be at most 600" })
    .default(30),
  PROMPT_MAX_JOBS: wholeNumber(10, 1, 40),
  TASK_TIMEOUT_MINUTES: z.coerce
    .number({ message: "must be a number of minutes" })
    .positive({ message: "must be more than 0" })
    .max(24 * 60, { message: "must be at most 1440 (one day)" })
    .optional(),
  POLL_INTERVAL_SECONDS: z.coerce
    .number({ message: "must be a number of seconds" })
    .min(0.05, { message: "must be at least 0.05" })
    .max(60, { message: "must be at most 60" })
    .default(3),
  MAX_IMAGE_MB: wholeNumber(30, 1, 200),
  MAX_RUNNING_JOBS: wholeNumber(3, 1, 100),
  MAX_RUNNING_PER_USER: wholeNumber(2, 1, 100),
  MAX_QUEUED_PER_USER: wholeNumber(10, 1, 1000),
  LOG_LEVEL: anyCase(["debug", "info", "warn", "error"]).default("info"),
  /** Unset: pretty when stderr is a terminal, JSON lines otherwise (see src/log.ts). */
  LOG_FORMAT: anyCase(["json", "pretty"]).optional(),
});

export type Settings = z.infer<typeof settingsSchema>;

/** What the running command needs beyond the schema's defaults. */
export type ConfigPurpose = "prompt" | "provider" | "bot";

/** The key each hosted provider needs; self-hosted ones (midjourney-proxy, ComfyUI, A1111) may run without. */
const apiKeySetting: Partial<Record<ProviderName, keyof Settings>> = {
  evolink: "EVOLINK_API_KEY",
  mjapi: "MJAPI_API_KEY",
  openai: "OPENAI_API_KEY",
  gemini: "GEMINI_API_KEY",
  bfl: "BFL_API_KEY",
};

const baseUrlSetting: Record<ProviderName, keyof Settings> = {
  evolink: "EVOLINK_BASE_URL",
  mjapi: "MJAPI_BASE_URL",
  "midjourney-proxy": "MIDJOURNEY_PROXY_BASE_URL",
  openai: "OPENAI_BASE_URL",
  gemini: "GEMINI_BASE_URL",
  bfl: "BFL_BASE_URL",
  comfyui: "COMFYUI_URL",
  a1111: "A1111_URL",
};

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(
      [
        "Atelier cannot start: fix these settings (environment or .env; see .env.example):",
        ...problems.map((problem) => `  - ${problem}`),
      ].join("\n"),
    );
  }
}

/** The configured providers, the default first. */
export function configuredProviders(settings: Pick<Settings, "PROVIDER">): ProviderName[] {
  return settings.PROVIDER.split(",").filter(isProviderName);
}

function requirementProblems(settings: Settings, purpose: ConfigPurpose): string[] {
  const problems: string[] = [];
  if (purpose === "prompt") return problems;
  const providers = configuredProviders(settings);
  for (const provider of providers) {
    const keyName = apiKeySetting[provider];
    const which = providers.length === 1 ? `PROVIDER is ${provider}` : `PROVIDER lists ${provider}`;
    if (keyName !== undefined && !settings[keyName]) {
      problems.push(`${keyName} is missing: ${which}, which needs its API key.`);
    }
    const urlName = baseUrlSetting[provider];
    if (!settings[urlName]) {
      problems.push(`${urlName} is missing: set the base URL of your ${provider} server.`);
    }
  }
  if (purpose === "bot" && !settings.DISCORD_TOKEN) {
    problems.push(
      "DISCORD_TOKEN is missing: copy the bot token from the Discord developer portal (Bot → Token).",
    );
  }
  return problems;
}

/** SHARD_IDS only mean something within SHARD_COUNT shards (Discord closes a connection with an id ≥ count). */
function shardProblems(settings: Settings): string[] {
  const { SHARD_COUNT: count, SHARD_IDS: ids } = settings;
  if ((count !== undefined || ids !== undefined) && settings.DISCORD_PUBLIC_KEY)
    return [
      "SHARD_COUNT and SHARD_IDS split the gateway, but with DISCORD_PUBLIC_KEY interactions come over HTTP and no gateway is opened: unset one or the other.",
    ];
  if (ids === undefined) return [];
  if (count === undefined)
    return [
      "SHARD_IDS is set without SHARD_COUNT: set SHARD_COUNT to the number of shards all processes share (e.g. SHARD_COUNT=2).",
    ];
  const outside = ids.filter((id) => id >= count);
  return outside.length === 0
    ? []
    : [
        `SHARD_IDS ${outside.join(", ")} ${outside.length === 1 ? "is" : "are"} not a shard of SHARD_COUNT=${count}: shard ids go from 0 to ${count - 1}.`,
      ];
}

/** The gateway shards this process runs, when sharding is configured (discord.js's one shard otherwise). */
export function shardsOf(settings: Pick<Settings, "SHARD_COUNT" | "SHARD_IDS">): ShardPlan | undefined {
  const count = settings.SHARD_COUNT;
  if (count === undefined) return undefined;
  return { count, ids: settings.SHARD_IDS ?? Array.from({ length: count }, (_, id) => id) };
}

/** `count` shards in all; this process opens one gateway connection for each of `ids`. */
export interface ShardPlan {
  count: number;
  ids: number[];
}

/** Validates an environment; returns settings or throws one ConfigError listing every problem. */
export function parseSettings(env: NodeJS.ProcessEnv, purpose: ConfigPurpose): Settings {
  // An empty line copied from .env.example (`REDIS_URL=`) means "not set", not "set to nothing".
  const given = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ""),
  );
  const result = settingsSchema.safeParse(given);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "settings");
      // The message is ours or zod's type message; neither contains the value, so secrets stay out.
      return `${name} ${issue.message}`;
    });
    throw new ConfigError(problems);
  }
  const problems = [...shardProblems(result.data), ...requirementProblems(result.data, purpose)];
  if (problems.length > 0) throw new ConfigError(problems);
  return result.data;
}

/** Loads `.env` (when present, without overriding the real environment) and validates it. */
export function loadSettings(purpose: ConfigPurpose, envFile = ".env"): Settings {
  if (existsSync(envFile)) {
    const real = { ...process.env };
    process.loadEnvFile(envFile);
    Object.assign(process.env, real);
  }
  // Blank means unset for libraries reading the same names too: discord.js reads SHARD_COUNT itself,
  // and a `SHARD_COUNT=` copied from .env.example would be 0 shards to it.
  for (const name of Object.keys(settingsSchema.shape)) {
    if (process.env[name]?.trim() === "") delete process.env[name];
  }
  return parseSettings(process.env, purpose);
}

/** The configured secret values, for loggers that must never print them. */
export function secretValues(settings: Partial<Settings>): string[] {
  return [...secretSettings]
    .map((name) => settings[name as keyof Settings])
    .filter((value): value is string => typeof value === "string" && value.length >= 4);
}

/** Every base URL configured for `provider` (several for a pool of machines). */
export function baseUrlsFor(settings: Settings, provider: ProviderName): string[] {
  const value = settings[baseUrlSetting[provider]] as string | undefined;
  return value === undefined ? [] : value.split(",");
}

/** Where the bot may download results from: every configured provider's base URLs. */
export function downloadOrigins(settings: Settings): string[] {
  return configuredProviders(settings).flatMap((name) => baseUrlsFor(settings, name));
}
