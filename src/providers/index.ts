// The configured providers, by name. Adapters take plain options; only this file reads settings, so
// each adapter stays testable against its emulator without any environment. Adding an adapter is
// one entry in `factories` (and its settings in src/config.ts).
import Keyv from "keyv";
import { ConfigError, configuredProviders, type ProviderName, type Settings } from "../config.ts";
import { BlobStore, type ResultBlobs } from "../store/blobs.ts";
import { createA1111Provider } from "./a1111.ts";
import { createBflProvider } from "./bfl.ts";
import { createComfyUiProvider } from "./comfyui.ts";
import { createEvolinkProvider } from "./evolink.ts";
import { createGeminiProvider } from "./gemini.ts";
import type { ProviderLogger } from "./http.ts";
import { createMidjourneyProxyProvider } from "./midjourney-proxy.ts";
import { createMjapiProvider } from "./mjapi.ts";
import { createOpenAiProvider } from "./openai.ts";
import type { ImageProvider } from "./types.ts";

export { type Logger, silentLogger } from "../log.ts";
export { capabilitiesOf, defineProvider } from "./define.ts";
export { createEvolinkProvider, evolinkCapabilities } from "./evolink.ts";
export { createHttpClient, type ProviderLogger } from "./http.ts";
export * from "./types.ts";

/** Every configured provider, by the name stored with each job (follow-ups go back to it). */
export interface ProviderRegistry {
  /** The provider configured as `name`; undefined when it is not configured (any more). */
  get(name: string): ImageProvider | undefined;
  /** The first one in PROVIDER: new jobs run here unless someone picks another. */
  readonly default: ImageProvider;
  /** The configured names, the default first. */
  names(): string[];
  /** The providers themselves, the default first. */
  all(): ImageProvider[];
  /** Releases every provider's pooled connections. */
  closeAll(): Promise<void>;
}

/** Where a provider should POST task updates, when the bot is reachable from the internet. */
export function callbackUrlFor(settings: Settings, provider: ProviderName): string | undefined {
  if (!settings.PUBLIC_URL) return undefined;
  const secret = settings.CALLBACK_SECRET ? `/${encodeURIComponent(settings.CALLBACK_SECRET)}` : "";
  return `${settings.PUBLIC_URL}/callbacks/${provider}${secret}`;
}

function required(value: string | undefined, name: string, provider: ProviderName): string {
  if (value === undefined || value === "") {
    throw new ConfigError([`${name} is missing: PROVIDER is ${provider}, which needs it.`]);
  }
  return value;
}

/** What adapters may use beyond their settings. */
export interface ProviderServices {
  /** Where results given as bytes (not links) are kept; see src/store/blobs.ts. */
  blobs: ResultBlobs;
}

type Factory = (
  settings: Settings,
  logger: ProviderLogger | undefined,
  services: ProviderServices,
) => ImageProvider;

const factories: Record<ProviderName, Factory> = {
  evolink: (settings, logger) =>
    createEvolinkProvider({
      apiKey: required(settings.EVOLINK_API_KEY, "EVOLINK_API_KEY", "evolink"),
      baseUrl: settings.EVOLINK_BASE_URL,
      model: settings.EVOLINK_MODEL,
      variationModel: settings.EVOLINK_VARIATION_MODEL,
      callbackUrl: callbackUrlFor(settings, "evolink"),
      logger,
    }),
  mjapi: (settings, logger) =>
    createMjapiProvider({
      apiKey: required(settings.MJAPI_API_KEY, "MJAPI_API_KEY", "mjapi"),
      baseUrl: required(settings.MJAPI_BASE_URL, "MJAPI_BASE_URL", "mjapi"),
      webhookUrl: callbackUrlFor(settings, "mjapi"),
      logger,
    }),
  "midjourney-proxy": (settings, logger) =>
    createMidjourneyProxyProvider({
      apiSecret: settings.MIDJOURNEY_PROXY_API_KEY,
      baseUrl: required(settings.MIDJOURNEY_PROXY_BASE_URL, "MIDJOURNEY_PROXY_BASE_URL", "midjourney-proxy"),
      notifyHookUrl: callbackUrlFor(settings, "midjourney-proxy"),
      logger,
    }),
  openai: (settings, logger, services) =>
    createOpenAiProvider({
      apiKey: required(settings.OPENAI_API_KEY, "OPENAI_API_KEY", "openai"),
      baseUrl: settings.OPENAI_BASE_URL,
      model: settings.OPENAI_IMAGE_MODEL,
      blobs: services.blobs,
      logger,
    }),
  gemini: (settings, logger, services) =>
    createGeminiProvider({
      apiKey: required(settings.GEMINI_API_KEY, "GEMINI_API_KEY", "gemini"),
      baseUrl: settings.GEMINI_BASE_URL,
      model: settings.GEMINI_IMAGE_MODEL,
      blobs: services.blobs,
      logger,
    }),
  bfl: (settings, logger, services) =>
    createBflProvider({
      apiKey: required(settings.BFL_API_KEY, "BFL_API_KEY", "bfl"),
      baseUrl: settings.BFL_BASE_URL,
      model: settings.BFL_MODEL,
      webhookUrl: callbackUrlFor(settings, "bfl"),
      blobs: services.blobs,
      maxImageBytes: settings.MAX_IMAGE_MB * 1024 * 1024,
      logger,
    }),
  comfyui: (settings, logger, services) =>
    createComfyUiProvider({
      urls: required(settings.COMFYUI_URL, "COMFYUI_URL", "comfyui").split(","),
      workflowPath: settings.COMFYUI_WORKFLOW,
      checkpoint: settings.COMFYUI_CHECKPOINT,
      concurrency: settings.COMFYUI_CONCURRENCY,
      blobs: services.blobs,
      logger,
    }),
  a1111: (settings, logger, services) =>
    createA1111Provider({
      urls: required(settings.A1111_URL, "A1111_URL", "a1111").split(","),
      auth: settings.A1111_AUTH,
      upscaler: settings.A1111_UPSCALER,
      blobs: services.blobs,
      logger,
    }),
};

/** A registry over providers already made (the first is the default); names must be distinct. */
export function registryOf(providers: readonly ImageProvider[]): ProviderRegistry {
  const [first] = providers;
  if (first === undefined) throw new Error("A provider registry needs at least one provider.");
  const byName = new Map(providers.map((provider) => [provider.name, provider]));
  if (byName.size !== providers.length) throw new Error("Two providers have the same name.");
  return {
    get: (name) => byName.get(name),
    default: first,
    names: () => [...byName.keys()],
    all: () => [...providers],
    closeAll: async () => {
      await Promise.all(providers.map((provider) => provider.close?.()));
    },
  };
}

/** Every provider PROVIDER lists, made from the settings; the first is the default. */
export function createProviders(
  settings: Settings,
  logger?: ProviderLogger,
  services: ProviderServices = { blobs: memoryBlobs() },
): ProviderRegistry {
  const made: ImageProvider[] = [];
  try {
    for (const name of configuredProviders(settings)) made.push(factories[name](settings, logger, services));
  } catch (error) {
    // A later provider's missing setting must not leave the earlier ones' pools open.
    void Promise.all(made.map((provider) => provider.close?.()));
    throw error;
  }
  return registryOf(made);
}

/** One configured provider: `name`, or the default (the first in PROVIDER). */
export function createProvider(
  settings: Settings,
  logger?: ProviderLogger,
  name?: ProviderName,
): ImageProvider {
  const chosen = name ?? configuredProviders(settings)[0] ?? "evolink";
  return factories[chosen](settings, logger, { blobs: memoryBlobs() });
}

/** Blobs kept in this process only: for one-shot commands and tests (the bot passes the store's). */
export function memoryBlobs(): ResultBlobs {
  return new BlobStore(new Keyv());
}
