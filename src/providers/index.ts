// Chooses the provider adapter from the settings. Adapters take plain options; only this factory
// reads settings, so each adapter stays testable against its emulator without any environment.
import { ConfigError, type ProviderName, type Settings } from "../config.ts";
import { createEvolinkProvider } from "./evolink.ts";
import type { ProviderLogger } from "./http.ts";
import { createMidjourneyProxyProvider } from "./midjourney-proxy.ts";
import { createMjapiProvider } from "./mjapi.ts";
import type { ImageProvider } from "./types.ts";

export { type Logger, silentLogger } from "../log.ts";
export { createEvolinkProvider, evolinkCapabilities } from "./evolink.ts";
export { createHttpClient, type ProviderLogger } from "./http.ts";
export * from "./types.ts";

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

export function createProvider(settings: Settings, logger?: ProviderLogger): ImageProvider {
  const provider = settings.PROVIDER;
  switch (provider) {
    case "evolink":
      return createEvolinkProvider({
        apiKey: required(settings.EVOLINK_API_KEY, "EVOLINK_API_KEY", provider),
        baseUrl: settings.EVOLINK_BASE_URL,
        model: settings.EVOLINK_MODEL,
        variationModel: settings.EVOLINK_VARIATION_MODEL,
        callbackUrl: callbackUrlFor(settings, provider),
        logger,
      });
    case "mjapi":
      return createMjapiProvider({
        apiKey: required(settings.MJAPI_API_KEY, "MJAPI_API_KEY", provider),
        baseUrl: required(settings.MJAPI_BASE_URL, "MJAPI_BASE_URL", provider),
        webhookUrl: callbackUrlFor(settings, provider),
        logger,
      });
    case "midjourney-proxy":
      return createMidjourneyProxyProvider({
        apiSecret: settings.MIDJOURNEY_PROXY_API_KEY,
        baseUrl: required(settings.MIDJOURNEY_PROXY_BASE_URL, "MIDJOURNEY_PROXY_BASE_URL", provider),
        notifyHookUrl: callbackUrlFor(settings, provider),
        logger,
      });
    default: {
      const unknown: never = provider;
      throw new ConfigError([`PROVIDER ${String(unknown)} is not known.`]);
    }
  }
}
