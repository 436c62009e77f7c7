// Which image services a person may use where they are: the configured ones, narrowed by the
// server's list (/atelier providers), and the one their new jobs run on (their /settings choice,
// else the server's first, else the bot's default). A prompt may still name another with --provider.
import type { NamedProviders } from "../jobs/pipeline.ts";
import type { ImageProvider } from "../providers/types.ts";
import type { GuildConfig } from "../team/guild-config.ts";
import type { Preferences } from "../team/preferences.ts";
import type { BotContext } from "./context.ts";

export interface ProvidersHere {
  /** Where this person's new jobs run unless a prompt says otherwise. */
  fallback: ImageProvider;
  /** What a prompt may name with --provider here. */
  named: NamedProviders;
  /** The person's preferences, read on the way (a prompt needs them next). */
  preferences: Preferences;
  /** The server's settings, read on the way (admission needs them next: one read per ask). */
  guildConfig: GuildConfig;
}

export async function providersHere(
  context: Pick<BotContext, "providers" | "team" | "preferences">,
  userId: string,
  guildId: string | undefined,
): Promise<ProvidersHere> {
  const configured = context.providers.names();
  // Together: with Redis each read is a round trip, and an answer to /imagine waits for these.
  const [guildConfig, preferences] = await Promise.all([
    context.team.configs.get(guildId),
    context.preferences.get(userId),
  ]);
  const allowed = guildConfig.providers.filter((name) => configured.includes(name));
  // A server list naming nothing configured (a provider removed since) falls back to all of them.
  const usable = allowed.length > 0 ? allowed : [...configured];
  const preferred = preferences.provider;
  const fallbackName = preferred !== undefined && usable.includes(preferred) ? preferred : usable[0];
  const fallback = context.providers.get(fallbackName ?? "");
  if (!fallback) throw new Error("No image service is configured.");
  return {
    preferences,
    guildConfig,
    fallback,
    named: {
      get: (name) => (usable.includes(name) ? context.providers.get(name) : undefined),
      names: () => usable,
    },
  };
}
