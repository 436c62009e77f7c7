// Connecting to Discord, with every known way it fails at start turned into one line that names
// the cause and the fix (no stack trace, no hang): a bad token, Discord out of reach, a server the
// bot is not in. Anything else is rethrown as it is.
import { type Client, DiscordAPIError, DiscordjsError, DiscordjsErrorCodes, Events } from "discord.js";

/** A start-up failure with a known cause: its message is the one line to print. */
export class StartupError extends Error {
  override readonly name = "StartupError";
}

/** HTTP_PORT taken by another program: whichever server of ours tried to listen on it. */
export function portInUseError(port: number | undefined): StartupError {
  return new StartupError(`HTTP_PORT ${port} is in use by another program: set HTTP_PORT to a free port.`);
}

/** View Channel, Send Messages, Embed Links, Attach Files, Read Message History. */
const invitePermissions = 1024n + 2048n + 16384n + 32768n + 65536n;

/** The link that adds the bot to a server with the scopes and permissions it needs. */
export function inviteLink(applicationId: string): string {
  return `https://discord.com/oauth2/authorize?client_id=${applicationId}&scope=bot+applications.commands&permissions=${invitePermissions}`;
}

function readyWithin(client: Client, timeoutMs: number): { ready: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new StartupError(
            `Discord did not answer within ${Math.round(timeoutMs / 1000)} s: check this machine's network (and DISCORD_API_URL, if set).`,
          ),
        ),
      timeoutMs,
    );
    client.once(Events.ClientReady, () => resolve());
  });
  return { ready, cancel: () => clearTimeout(timer) };
}

/** A failure to reach Discord or a refused token, as one line naming the fix; anything else as it is. */
export function explainLogin(error: unknown, apiUrl: string | undefined): unknown {
  if (error instanceof DiscordjsError && error.code === DiscordjsErrorCodes.TokenInvalid)
    return new StartupError(
      "Discord refused DISCORD_TOKEN (invalid token): open the Developer Portal → your application → Bot → Reset Token, and put the new token in DISCORD_TOKEN.",
    );
  if (error instanceof DiscordAPIError && error.status === 401)
    return new StartupError(
      "Discord refused DISCORD_TOKEN (401): reset the token in the Developer Portal → Bot.",
    );
  const code =
    (error as { code?: string; cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
  if (
    typeof code === "string" &&
    /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|UND_ERR)/.test(code)
  )
    return new StartupError(
      `Discord could not be reached (${code}) at ${apiUrl ?? "discord.com"}: check this machine's network${apiUrl ? " and DISCORD_API_URL" : ""}.`,
    );
  return error;
}

/** Logs in and waits for the gateway's ready, within `timeoutMs`; known failures become StartupErrors. */
export async function connect(
  client: Client,
  token: string,
  timeoutMs: number,
  apiUrl?: string,
): Promise<void> {
  const { ready, cancel } = readyWithin(client, timeoutMs);
  try {
    await Promise.race([client.login(token).then(() => ready), ready]);
  } catch (error) {
    throw explainLogin(error, apiUrl);
  } finally {
    cancel();
  }
}

/** Unknown Guild, Missing Access: the bot is not in DISCORD_GUILD_ID's server, or lacks the commands scope. */
const notInGuildCodes = new Set([10004, 50001]);

export function explainRegistration(
  error: unknown,
  guildId: string | undefined,
  applicationId: string,
): unknown {
  if (
    error instanceof DiscordAPIError &&
    typeof error.code === "number" &&
    notInGuildCodes.has(error.code) &&
    guildId
  )
    return new StartupError(
      `DISCORD_GUILD_ID ${guildId}: the bot is not in that server or may not add commands there. Check the id, or invite the bot: ${inviteLink(applicationId)}`,
    );
  return error;
}
