// The bot under benchmark, alone in its own process: exactly `atelier start` (runBot) configured
// from the environment, plus its event-loop delay, which the parent reads over IPC. Keeping the fake Discord and the
// provider emulator out of this process is what lets CPU and memory be attributed to the bot.
// Started by bench/support/bot-child.ts; stops on SIGTERM like the real bot.
import { runBot } from "../../src/cli/start.ts";
import { parseSettings } from "../../src/config.ts";
import { answerParent } from "./ipc.ts";
import { type EventLoopFigures, EventLoopMonitor } from "./sampler.ts";

/** Start a measured phase, or report the event loop since the start. */
export type BotQuestion = "mark" | "report";

// CPU and memory are read from outside (bot-child.ts); only the event loop is watched from inside,
// at a resolution that costs the bot little (100 wake-ups a second).
const eventLoop = new EventLoopMonitor(10);

answerParent<BotQuestion, EventLoopFigures>((question) => {
  if (question === "mark") eventLoop.mark();
  return eventLoop.read();
});

const settings = parseSettings(process.env, "bot");
// Bench-only values the settings schema refuses on purpose, set after validation: an http://
// PUBLIC_URL (the emulator accepts http callbacks on 127.0.0.1; production needs https) and job
// limits above their maximum (1,000 tasks at the provider at once).
Object.assign(settings, JSON.parse(process.env.BENCH_SETTINGS_OVERRIDES ?? "{}"));

const code = await runBot(settings);
eventLoop.stop();
process.disconnect?.();
process.exitCode = code;
