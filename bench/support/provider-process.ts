// The provider's side of the benchmark, in a process of its own: the EvoLink emulator and its caching
// front (provider-front.ts), as a real provider and its CDN run on machines of their own. In the bench
// process they made the fake Discord wait: serving ~6 MB of images per job on the same event loop
// delayed the moment the fake saw each answer, which counted as the bot's first response time. They
// still share this machine's cores with the bot, at the same priority. Started by provider-host.ts.
import { startEvolinkEmulator } from "../../emulators/index.ts";
import { answerParent } from "./ipc.ts";
import { type TaskTiming, tasksByIndex } from "./observations.ts";
import { type LearnedCompletion, startProviderFront } from "./provider-front.ts";

export interface ProviderSetup {
  apiKey: string;
  taskDurationMs: number;
  tileLongSide: number;
  allowInsecureCallbacks: boolean;
}

export type ProviderRequest =
  | { type: "task-duration"; ms: number }
  | { type: "callback-target"; url: string }
  | { type: "tasks"; marker: string }
  | { type: "count-tasks"; containing: string }
  | { type: "polls" }
  | { type: "learned" };

export type ProviderReply =
  | { tasks: Array<[number, TaskTiming]> }
  | { count: number }
  | { times: number[] }
  | { learned: Array<[string, LearnedCompletion]> }
  | { done: true };

const setup = JSON.parse(process.env.BENCH_PROVIDER ?? "{}") as ProviderSetup;
const emulator = await startEvolinkEmulator(setup);
const front = await startProviderFront(emulator);

answerParent<ProviderRequest, ProviderReply>((request) => {
  switch (request.type) {
    case "task-duration":
      emulator.knobs.taskDurationMs = request.ms;
      return { done: true };
    case "callback-target":
      front.callbackTarget = request.url;
      return { done: true };
    case "tasks":
      return { tasks: [...tasksByIndex(emulator.tasks.values(), new RegExp(request.marker))] };
    case "count-tasks":
      return {
        count: [...emulator.tasks.values()].filter((task) => task.prompt.includes(request.containing)).length,
      };
    case "polls":
      return { times: front.pollTimes };
    case "learned":
      return { learned: [...front.learned] };
  }
});

// Unasked: the parent waits for this before asking anything.
process.send?.({ ready: front.baseUrl });

process.once("SIGTERM", async () => {
  await front.stop();
  await emulator.stop();
  process.exit(0);
});
