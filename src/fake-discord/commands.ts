import {
  type APIApplicationCommand,
  type APIApplicationCommandOption,
  ApplicationCommandType,
  type ApplicationIntegrationType,
  type InteractionContextType,
  Locale,
} from "discord-api-types/v10";
import { z } from "zod";
import { ErrorCollector, invalidFormBody } from "./errors.ts";
import { isRecord } from "./guards.ts";
import type { SnowflakeFactory } from "./snowflake.ts";

// Discord's naming rule for chat-input commands and options: lowercase, 1–32 chars.
const COMMAND_NAME = /^[-_'\p{Ll}\p{Lo}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
const MAX_DESCRIPTION = 100;
const knownLocales = new Set<string>(Object.values(Locale));
const MAX_OPTIONS = 25;

const optionSchema = z.custom<APIApplicationCommandOption>(
  (value) => isRecord(value) && typeof value.type === "number" && typeof value.name === "string",
  { message: "Option must have a numeric type and a name" },
);

/** Locale → text, as in `name_localizations` (Discord accepts null for "none"). */
const localizationsSchema = z.record(z.string(), z.string()).nullish();

const commandBodySchema = z.looseObject({
  id: z.string().optional(),
  name: z.string(),
  name_localizations: localizationsSchema,
  type: z.number().int().optional(),
  description: z.string().optional(),
  description_localizations: localizationsSchema,
  options: z.array(optionSchema).max(MAX_OPTIONS).optional(),
  default_member_permissions: z.string().nullish(),
  nsfw: z.boolean().optional(),
  contexts: z.array(z.custom<InteractionContextType>((value) => typeof value === "number")).nullish(),
  integration_types: z
    .array(z.custom<ApplicationIntegrationType>((value) => typeof value === "number"))
    .optional(),
});

type CommandBody = z.infer<typeof commandBodySchema>;

/** Where a command is registered: globally, or in one guild. */
export type CommandScope = { guildId?: string | undefined };

/** Registered application commands, kept per scope like Discord does. */
export class CommandRegistry {
  readonly #byScope = new Map<string, APIApplicationCommand[]>();
  readonly #ids: SnowflakeFactory;
  readonly #applicationId: string;

  constructor(ids: SnowflakeFactory, applicationId: string) {
    this.#ids = ids;
    this.#applicationId = applicationId;
  }

  /** Bulk overwrite (`PUT`): commands keep their id when a command of the same name existed. */
  replace(scope: CommandScope, json: unknown): APIApplicationCommand[] {
    const bodies = parseCommandList(json);
    const previous = this.list(scope);
    const commands = bodies.map((body) => this.#toCommand(body, scope, previous));
    this.#byScope.set(scopeKey(scope), commands);
    return commands;
  }

  /** Single create (`POST`): replaces a same-named command in that scope. */
  upsert(scope: CommandScope, json: unknown): APIApplicationCommand {
    const [body] = parseCommandList([json]);
    if (!body) throw new Error("unreachable: one body parsed");
    const previous = this.list(scope);
    const command = this.#toCommand(body, scope, previous);
    this.#byScope.set(scopeKey(scope), [
      ...previous.filter((existing) => existing.name !== command.name),
      command,
    ]);
    return command;
  }

  list(scope: CommandScope): APIApplicationCommand[] {
    return [...(this.#byScope.get(scopeKey(scope)) ?? [])];
  }

  /** The chat-input command a user would see under this name: guild commands shadow global ones. */
  find(name: string, guildId: string): APIApplicationCommand | undefined {
    const isChatInput = (command: APIApplicationCommand) =>
      command.name === name && command.type === ApplicationCommandType.ChatInput;
    return this.list({ guildId }).find(isChatInput) ?? this.list({}).find(isChatInput);
  }

  #toCommand(
    body: CommandBody,
    scope: CommandScope,
    previous: APIApplicationCommand[],
  ): APIApplicationCommand {
    const type = body.type ?? ApplicationCommandType.ChatInput;
    const existing = previous.find((command) => command.name === body.name && command.type === type);
    return {
      id: existing?.id ?? this.#ids.next(),
      application_id: this.#applicationId,
      ...(scope.guildId === undefined ? {} : { guild_id: scope.guildId }),
      version: this.#ids.next(),
      type,
      name: body.name,
      ...(body.name_localizations ? { name_localizations: body.name_localizations } : {}),
      description: body.description ?? "",
      ...(body.description_localizations
        ? { description_localizations: body.description_localizations }
        : {}),
      ...(body.options === undefined ? {} : { options: body.options }),
      default_member_permissions: body.default_member_permissions ?? null,
      nsfw: body.nsfw ?? false,
      ...(body.contexts === undefined ? {} : { contexts: body.contexts }),
      ...(body.integration_types === undefined ? {} : { integration_types: body.integration_types }),
    };
  }
}

function scopeKey(scope: CommandScope): string {
  return scope.guildId ?? "global";
}

/** Validates bodies like Discord (50035 on bad names/descriptions) so registration bugs show up in tests. */
function parseCommandList(json: unknown): CommandBody[] {
  const parsed = z.array(commandBodySchema).safeParse(json);
  const errors = new ErrorCollector();
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      errors.add(issue.path.map(String), "BASE_TYPE_INVALID", issue.message);
    throw invalidFormBody(errors.tree);
  }
  parsed.data.forEach((body, index) => {
    validateCommandBody(body, errors, [index]);
  });
  errors.throwIfAny();
  return parsed.data;
}

function validateCommandBody(body: CommandBody, errors: ErrorCollector, path: (string | number)[]): void {
  const chatInput = (body.type ?? ApplicationCommandType.ChatInput) === ApplicationCommandType.ChatInput;
  if (chatInput) {
    validateNameAndDescription(body.name, body.description, errors, path);
    validateLocalizations(body, errors, path);
  }
  body.options?.forEach((option, index) => {
    validateOption(option, errors, [...path, "options", index]);
  });
}

function validateOption(
  option: APIApplicationCommandOption,
  errors: ErrorCollector,
  path: (string | number)[],
) {
  validateNameAndDescription(option.name, option.description, errors, path);
  validateLocalizations(option, errors, path);
  if ("choices" in option) {
    option.choices?.forEach((choice, index) => {
      const names = Object.values(choice.name_localizations ?? {});
      if (names.some((name) => typeof name !== "string" || name.length < 1 || name.length > 100))
        errors.add(
          [...path, "choices", index, "name_localizations"],
          "BASE_TYPE_BAD_LENGTH",
          "Must be between 1 and 100 in length.",
        );
    });
  }
  if ("options" in option) {
    option.options?.forEach((child, index) => {
      validateOption(child, errors, [...path, "options", index]);
    });
  }
}

/** Each localised name follows the naming rule and each localised description the length limit. */
function validateLocalizations(
  entry: {
    name_localizations?: Record<string, string | null> | null;
    description_localizations?: Record<string, string | null> | null;
  },
  errors: ErrorCollector,
  path: (string | number)[],
): void {
  const locales = [
    ...Object.keys(entry.name_localizations ?? {}),
    ...Object.keys(entry.description_localizations ?? {}),
  ];
  for (const locale of locales.filter((key) => !knownLocales.has(key)))
    errors.add([...path, "name_localizations", locale], "LOCALE_INVALID", `Invalid locale "${locale}"`);
  for (const [locale, name] of Object.entries(entry.name_localizations ?? {})) {
    if (name !== null && !COMMAND_NAME.test(name))
      errors.add(
        [...path, "name_localizations", locale],
        "APPLICATION_COMMAND_INVALID_NAME",
        "Command name is invalid",
      );
  }
  for (const [locale, description] of Object.entries(entry.description_localizations ?? {})) {
    if (description !== null && (description.length < 1 || description.length > MAX_DESCRIPTION))
      errors.add(
        [...path, "description_localizations", locale],
        "BASE_TYPE_BAD_LENGTH",
        `Must be between 1 and ${MAX_DESCRIPTION} in length.`,
      );
  }
}

function validateNameAndDescription(
  name: string,
  description: string | undefined,
  errors: ErrorCollector,
  path: (string | number)[],
): void {
  if (!COMMAND_NAME.test(name)) {
    errors.add([...path, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid");
  }
  if (!description || description.length > MAX_DESCRIPTION) {
    errors.add(
      [...path, "description"],
      "BASE_TYPE_BAD_LENGTH",
      `Must be between 1 and ${MAX_DESCRIPTION} in length.`,
    );
  }
}
