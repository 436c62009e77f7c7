// `atelier playground [--port N]`: the bot on a local web page that looks and behaves like a Discord
// channel (src/playground/), with no Discord token; on the built-in EvoLink emulator unless an image
// service is configured (then on that service, at its prices).
import { ConfigError, loadSettings, parseSettings, type Settings, secretValues } from "../config.ts";
import { createLogger, type LogLevel } from "../log.ts";
import { startPlayground } from "../playground/playground.ts";

export interface PlaygroundArgs {
  /** 0: any free port. */
  port: number;
  host: string;
  /** Use the emulator even when an image service is configured. */
  emulator: boolean;
}

/** The configured image services, or why the emulator is used instead. */
function configuredServices(emulator: boolean): { settings?: Settings; why: string } {
  if (emulator) return { why: "--emulator" };
  try {
    return { settings: parseSettings(process.env, "provider"), why: "" };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { why: `no image service configured (${error.problems[0] ?? "see .env.example"})` };
  }
}

export async function runPlayground(options: PlaygroundArgs): Promise<number> {
  const base = loadSettings("prompt"); // reads .env, checks what is set
  const { settings, why } = configuredServices(options.emulator);
  const logger = createLogger({
    // The bot's own log is noise next to the page unless asked for.
    level: process.env.LOG_LEVEL ? (base.LOG_LEVEL as LogLevel) : "warn",
    secrets: secretValues(settings ?? base),
  });
  const playground = await startPlayground({ port: options.port, host: options.host, logger, settings });
  const backend = settings
    ? `${playground.backend} (configured: real jobs, real credits)`
    : `the built-in EvoLink emulator: ${why}`;
  process.stdout.write(
    [
      `Atelier playground: ${playground.url}`,
      `  images from ${backend}`,
      `  people: ${playground.people.map((person) => person.name + (person.admin ? " (admin)" : "")).join(", ")}`,
      "  Ctrl+C to stop",
      "",
    ].join("\n"),
  );
  await new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve());
  });
  await playground.stop();
  return 0;
}
