// The one provider contract every adapter runs against its emulator: what the jobs layer and the
// Discord side rely on whatever the protocol. An adapter's own file adds one `runProviderContract`
// line (with a small setup) and keeps only what is particular to its protocol (exact request bodies).
// Waits are bounded by polling counts; retry sleeps are injected (instant) and recorded.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type EmulatorHandle, makeResultImage } from "../../emulators/index.ts";
import { trackTask } from "../../src/jobs/track.ts";
import type { ParsedPrompt } from "../../src/prompt/types.ts";
import type { ProviderLogger } from "../../src/providers/http.ts";
import {
  type ImageInput,
  type ImageProvider,
  type ParentTask,
  ProviderError,
  type SubmitResult,
  type TaskSnapshot,
} from "../../src/providers/types.ts";
import {
  failure,
  pause,
  pixelsOf,
  poller,
  prompt,
  recordingLogger,
  recordingSleeps,
  startReceiver,
  taskIdOf,
} from "./support.ts";

export type ContractEmulator = EmulatorHandle<unknown>;

/** What an adapter is built with in the suite. */
export interface ContractAdapterOptions {
  baseUrl: string;
  /** The emulator's key (or secret), or a wrong one. */
  apiKey: string;
  logger: ProviderLogger;
  /** Instant, recorded retry waits (`http: { clock: { sleep } }`). */
  sleep: (ms: number) => Promise<void>;
}

export interface ContractSetup<E extends ContractEmulator> {
  /** Starts the emulator with this key, short task runs, loopback callbacks allowed. */
  start(apiKey: string): Promise<E>;
  adapter(emulator: E, options: ContractAdapterOptions): ImageProvider;
  /** The settings an admin fixes for a wrong key and for a wrong base URL. */
  keySetting: string;
  baseUrlSetting: string;
  /** The create's field carrying a callback URL ("callback_url", "webhook_url", "notifyHook"). */
  callbackField: string;
  /** An id the emulator never issued. */
  unknownTaskId: string;
  /** Width × height of each image of a 16:9 set, and of an upscale when U calls the provider. */
  size: { set: [number, number]; upscale?: [number, number] };
  /** Prompts with `word` in them are refused (at submit or while the task runs) from now on. */
  refuse(emulator: E, word: string): void;
  /** When the refusal names the word alone (not a sentence around it). */
  refusalReasonIsWord: boolean;
  /** Tasks created from now on stop at 93% and never finish. */
  stall(emulator: E): void;
  /** The account runs out of credits, when the protocol has a balance. */
  exhaust?(emulator: E): void;
  /** Puts every knob back (after each test). */
  reset(emulator: E): void;
}

const apiKey = "contract-key-0123456789-SECRET";
const finish = poller({ polls: 300, everyMs: 10 });

/** The ProviderError a submit rejects with, or the error its task ends with. */
async function refusal(adapter: ImageProvider, submit: Promise<SubmitResult>): Promise<ProviderError> {
  try {
    const { final } = await finish(adapter, taskIdOf(await submit));
    expect(final.status).toBe("failed");
    if (final.error === undefined) throw new Error("the task failed without an error");
    return final.error;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
}

/** A finished set of `parsed`, as the job layer stores it to be a follow-up's parent. */
export async function finishedSet(
  adapter: ImageProvider,
  parsed: ParsedPrompt = prompt("a red fox", { ar: "16:9" }),
): Promise<ParentTask> {
  const { final } = await finish(adapter, taskIdOf(await adapter.imagine({ prompt: parsed })));
  expect(final.status).toBe("completed");
  return {
    taskId: final.taskId,
    prompt: parsed,
    imageUrls: final.imageUrls,
    ...(final.gridUrl ? { gridUrl: final.gridUrl } : {}),
    ...(final.buttons ? { buttons: final.buttons } : {}),
  };
}

/** A small PNG of result colour `index`, as people attach to /blend and /describe. */
export async function sampleImage(index: number): Promise<ImageInput> {
  return { bytes: await makeResultImage({ width: 8, height: 8, index }), contentType: "image/png" };
}

/** A follow-up's result, followed to its end when it started a task. */
async function outcomeOf(adapter: ImageProvider, submitted: SubmitResult): Promise<TaskSnapshot> {
  if (submitted.kind === "done") return submitted.snapshot;
  return (await finish(adapter, submitted.taskId)).final;
}

export function runProviderContract<E extends ContractEmulator>(name: string, setup: ContractSetup<E>): void {
  describe(`${name}: the provider contract`, () => {
    let emulator: E;
    const adapters: ImageProvider[] = [];
    const { logger, lines: logLines } = recordingLogger();
    const { sleeps, sleep } = recordingSleeps();
    const creates = () => emulator.apiRequests("POST");
    const warnLines = () => logLines.filter((line) => line.startsWith("WARN"));

    function provider(key = apiKey): ImageProvider {
      const adapter = setup.adapter(emulator, { baseUrl: emulator.baseUrl, apiKey: key, logger, sleep });
      adapters.push(adapter);
      return adapter;
    }

    beforeAll(async () => {
      emulator = await setup.start(apiKey);
    });

    afterAll(async () => {
      await Promise.all(adapters.map((adapter) => adapter.close?.()));
      await emulator.stop();
    });

    afterEach(() => {
      // Nothing in any log line may carry the key, whatever the test did.
      for (const line of logLines) expect(line).not.toContain(apiKey);
      setup.reset(emulator);
      emulator.clearFaults();
      emulator.requests.length = 0;
      sleeps.length = 0;
      logLines.length = 0;
    });

    it("derives blend, describe, cancel and callback from the methods it implements", () => {
      const adapter = provider();
      const { capabilities } = adapter;
      expect(capabilities.blend).toBe(typeof adapter.blend === "function");
      expect(capabilities.describe).toBe(typeof adapter.describe === "function");
      expect(capabilities.cancel).toBe(typeof adapter.cancel === "function");
      expect(capabilities.callback).toBe(typeof adapter.parseCallback === "function");
      expect(adapter.name).toBe(name);
    });

    describe("imagine", () => {
      it("runs to 4 distinct images of the requested aspect, progress never going back", async () => {
        const adapter = provider();
        const result = await adapter.imagine({ prompt: prompt("a red fox", { ar: "16:9" }) });
        const { final, seen } = await finish(adapter, taskIdOf(result));
        expect(seen[0]?.status).toMatch(/queued|running/);
        const progresses = seen.map((snapshot) => snapshot.progress ?? 0);
        expect(progresses).toEqual([...progresses].sort((a, b) => a - b));
        expect(final).toMatchObject({ status: "completed", progress: 100 });
        expect(final.imageUrls).toHaveLength(adapter.capabilities.imagesPerSet);
        const images = await Promise.all(final.imageUrls.map(pixelsOf));
        expect(images.map((image) => image.colourIndex)).toEqual([0, 1, 2, 3]);
        for (const image of images) expect([image.width, image.height]).toEqual(setup.size.set);
        const calls = emulator.apiRequests();
        expect(calls.every((request) => request.hasAuthHeader && request.authorized)).toBe(true);
      });

      it("refuses a prompt over the provider's length limit before sending anything", async () => {
        const adapter = provider();
        const max = adapter.capabilities.maxPromptLength;
        const long = prompt("x".repeat(max + 1));
        expect(adapter.check({ prompt: long }).error?.kind).toBe("invalid");
        const error = await failure(adapter.imagine({ prompt: long }));
        expect(error.kind).toBe("invalid");
        expect(error.message).toContain(String(max));
        expect(creates()).toHaveLength(0);
      });

      it("posts the task's updates to the callback URL, and parseCallback reads them", async () => {
        const adapter = provider();
        if (!adapter.parseCallback) return;
        const receiver = await startReceiver();
        try {
          const callbackUrl = receiver.url(`/callbacks/${name}`);
          const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox"), callbackUrl }));
          expect(asRecord(creates().at(-1)?.body)[setup.callbackField]).toBe(callbackUrl);
          const parsed = () => receiver.received.map((body) => adapter.parseCallback?.(body));
          for (let wait = 0; wait < 300 && !parsed().some((s) => s?.status === "completed"); wait += 1) {
            await pause(10);
          }
          const snapshots = parsed();
          expect(snapshots.every((snapshot) => snapshot?.taskId === taskId)).toBe(true);
          // Deliveries are concurrent POSTs, so their arrival order is not asserted.
          const completed = snapshots.find((snapshot) => snapshot?.status === "completed");
          expect(completed?.imageUrls).toHaveLength(4);
          expect(() => adapter.parseCallback?.({ nonsense: true })).toThrow(ProviderError);
        } finally {
          await receiver.close();
        }
      });
    });

    describe("errors in the user's terms", () => {
      it("a wrong key is auth, names the setting, and is not retried", async () => {
        const adapter = provider("wrong-key-0000000000");
        const error = await failure(adapter.imagine({ prompt: prompt("a fox") }));
        expect(error).toMatchObject({ kind: "auth", advice: "admin" });
        expect(error.message).toContain(setup.keySetting);
        expect(creates()).toHaveLength(1);
        expect(creates()[0]).toMatchObject({ hasAuthHeader: true, authorized: false });
        expect((await failure(adapter.fetchTask(setup.unknownTaskId))).kind).toBe("auth");
        expect(sleeps).toEqual([]);
      });

      it("a refused prompt is refused, naming the word, with advice to rephrase", async () => {
        setup.refuse(emulator, "gore");
        const adapter = provider();
        const error = await refusal(adapter, adapter.imagine({ prompt: prompt("so much gore") }));
        expect(error).toMatchObject({ kind: "refused", advice: "rephrase" });
        if (setup.refusalReasonIsWord) expect(error.reason).toBe("gore");
        else expect(error.reason).toContain("gore");
        expect(error.message).toMatch(/gore/);
      });

      it("an account without credits is quota, for an admin", async () => {
        if (!setup.exhaust) return;
        setup.exhaust(emulator);
        const error = await failure(provider().imagine({ prompt: prompt("a fox") }));
        expect(error).toMatchObject({ kind: "quota", advice: "admin" });
      });

      it("an unknown task is a clear error naming the base URL setting", async () => {
        const error = await failure(provider().fetchTask(setup.unknownTaskId));
        expect(error.kind).toBe("internal");
        expect(error.message).toMatch(/task/i);
        expect(error.message).toContain(setup.baseUrlSetting);
      });

      it("a 200 poll of an unexpected shape is internal, logged once without the key", async () => {
        emulator.failNext(1, 200, { method: "GET", body: { weird: `Bearer ${apiKey}`, key: apiKey } });
        const error = await failure(provider().fetchTask(setup.unknownTaskId));
        expect(error.kind).toBe("internal");
        expect(warnLines()).toHaveLength(1);
        expect(warnLines()[0]).toMatch(/unexpected response shape/);
        expect(emulator.apiRequests("GET")).toHaveLength(1);
      });
    });

    describe("faults", () => {
      it("a 429 burst on polling is retried and succeeds", async () => {
        const adapter = provider();
        const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }));
        emulator.failNext(3, 429, { method: "GET" });
        expect((await adapter.fetchTask(taskId)).taskId).toBe(taskId);
        expect(emulator.apiRequests("GET")).toHaveLength(4);
        expect(sleeps).toHaveLength(3);
      });

      it("a 429 with Retry-After on create is retried after that delay, making one task", async () => {
        const before = emulator.taskIds().length;
        emulator.failNext(1, 429, { method: "POST", retryAfter: "2" });
        const result = await provider().imagine({ prompt: prompt("a fox") });
        expect(sleeps).toEqual([2000]);
        expect(creates()).toHaveLength(2);
        expect(emulator.taskIds()).toHaveLength(before + 1);
        expect(emulator.taskIds()).toContain(taskIdOf(result));
      });

      it("a 503 on create (not processed) is retried", async () => {
        const before = emulator.taskIds().length;
        emulator.failNext(2, 503, { method: "POST" });
        expect((await provider().imagine({ prompt: prompt("a fox") })).kind).toBe("task");
        expect(creates()).toHaveLength(3);
        expect(emulator.taskIds()).toHaveLength(before + 1);
      });

      it("a 500 after processing a create is NOT retried and says it may have started", async () => {
        const before = emulator.taskIds().length;
        emulator.failNext(1, 500, { method: "POST", afterProcessing: true });
        const error = await failure(provider().imagine({ prompt: prompt("a fox") }));
        expect(error).toMatchObject({ kind: "transient", maybeSubmitted: true, advice: "retry" });
        expect(error.message).toMatch(/may have started/);
        expect(creates()).toHaveLength(1);
        expect(emulator.taskIds()).toHaveLength(before + 1);
        expect(sleeps).toEqual([]);
      });

      it("a truncated or malformed create answer is internal, maybe submitted, and sent once", async () => {
        const adapter = provider();
        emulator.truncateNext({ method: "POST" });
        const truncated = await failure(adapter.imagine({ prompt: prompt("a fox") }));
        expect(truncated).toMatchObject({ kind: "internal", maybeSubmitted: true });
        emulator.malformedNext({ method: "POST" });
        const malformed = await failure(adapter.imagine({ prompt: prompt("a fox") }));
        expect(malformed).toMatchObject({ kind: "internal", maybeSubmitted: true });
        expect(creates()).toHaveLength(2);
        expect(warnLines()).toHaveLength(2);
      });

      it("a malformed or truncated poll answer is retried like a 5xx", async () => {
        const adapter = provider();
        const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }));
        emulator.malformedNext({ method: "GET" });
        expect((await adapter.fetchTask(taskId)).taskId).toBe(taskId);
        emulator.truncatePolls(2);
        expect((await adapter.fetchTask(taskId)).taskId).toBe(taskId);
        expect(emulator.apiRequests("GET").map((request) => request.fault ?? "ok")).toEqual([
          "malformed",
          "ok",
          "truncate",
          "truncate",
          "ok",
        ]);
        expect(sleeps).toHaveLength(3);
        expect(warnLines().length).toBeGreaterThanOrEqual(3);
      });

      it("polls cut off past the retry budget are waited out: the task still completes", async () => {
        const adapter = provider();
        const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }));
        emulator.truncatePolls(6);
        const snapshot = await trackTask(adapter, taskId, {
          pollIntervalMs: 10,
          startedAt: Date.now(),
          timeoutMs: 30_000,
        });
        expect(snapshot.status).toBe("completed");
        expect(snapshot.imageUrls).toHaveLength(4);
        const cut = emulator.apiRequests("GET").filter((request) => request.fault === "truncate");
        expect(cut).toHaveLength(6);
      });

      it("a task that never finishes stays running at 93% (the job layer times it out)", async () => {
        setup.stall(emulator);
        const adapter = provider();
        const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }));
        let snapshot = await adapter.fetchTask(taskId);
        for (let poll = 0; poll < 200 && snapshot.progress !== 93; poll += 1) {
          await pause(10);
          snapshot = await adapter.fetchTask(taskId);
        }
        await pause(150);
        expect(await adapter.fetchTask(taskId)).toMatchObject({ status: "running", progress: 93 });
        expect(adapter.capabilities.maxTaskDurationMs).toBeGreaterThan(0);
      });
    });

    describe("follow-ups, as the capabilities say", () => {
      let parent: ParentTask;

      beforeAll(async () => {
        parent = await finishedSet(provider());
        emulator.requests.length = 0;
      });

      it("U2 gives image 2 on its own: picked from the set, or upscaled by the provider", async () => {
        const adapter = provider();
        const result = await adapter.followUp({ kind: "upscale", parent, index: 2 });
        const final = await outcomeOf(adapter, result);
        expect(final.status).toBe("completed");
        expect(final.imageUrls).toHaveLength(1);
        if (adapter.capabilities.upscale === "separate") {
          expect(result.kind).toBe("done");
          expect(final.imageUrls).toEqual([parent.imageUrls[1]]);
          expect(emulator.apiRequests()).toHaveLength(0);
          return;
        }
        const image = await pixelsOf(final.imageUrls[0] ?? "");
        expect(image).toEqual({
          width: setup.size.upscale?.[0],
          height: setup.size.upscale?.[1],
          colourIndex: 1,
        });
      });

      it("each offered variation strength makes a new set of 4", async () => {
        const adapter = provider();
        expect(adapter.capabilities.variation.length).toBeGreaterThan(0);
        for (const strength of adapter.capabilities.variation) {
          const result = await adapter.followUp({ kind: "variation", parent, index: 3, strength });
          const final = await outcomeOf(adapter, result);
          expect(final.status).toBe("completed");
          expect(final.imageUrls).toHaveLength(4);
        }
      });

      it("a variation of an image the set does not have is invalid", async () => {
        const error = await failure(
          provider().followUp({ kind: "variation", parent, index: 7, strength: "strong" }),
        );
        expect(error.kind).toBe("invalid");
      });

      it("re-roll makes a new task when offered", async () => {
        const adapter = provider();
        if (!adapter.capabilities.reroll) return;
        const result = await adapter.followUp({ kind: "reroll", parent });
        expect(taskIdOf(result)).not.toBe(parent.taskId);
        expect((await outcomeOf(adapter, result)).status).toBe("completed");
      });

      it("Run as HD runs when offered, and is invalid without a request when not", async () => {
        const adapter = provider();
        if (adapter.capabilities.hd) {
          const result = await adapter.followUp({ kind: "hd", parent });
          expect((await outcomeOf(adapter, result)).status).toBe("completed");
          return;
        }
        expect((await failure(adapter.followUp({ kind: "hd", parent }))).kind).toBe("invalid");
        expect(creates()).toHaveLength(0);
      });

      it("a provider button is pressed when the set lists one, invalid without a request otherwise", async () => {
        const adapter = provider();
        const button = parent.buttons?.at(-1);
        if (button) {
          const result = await adapter.followUp({ kind: "action", parent, customId: button.customId });
          expect((await outcomeOf(adapter, result)).status).toBe("completed");
          return;
        }
        const error = await failure(adapter.followUp({ kind: "action", parent, customId: "MJ::JOB::x::1" }));
        expect(error.kind).toBe("invalid");
        expect(creates()).toHaveLength(0);
      });

      it("cancel, where implemented, ends a running task as cancelled", async () => {
        const adapter = provider();
        if (!adapter.cancel) {
          expect(adapter.capabilities.cancel).toBe(false);
          return;
        }
        setup.stall(emulator);
        const taskId = taskIdOf(await adapter.imagine({ prompt: prompt("a fox") }));
        await adapter.cancel(taskId);
        expect((await finish(adapter, taskId)).final.status).toBe("cancelled");
      });
    });

    describe("blend and describe, where implemented", () => {
      const image = sampleImage;

      it("blend makes a new set from 2 images", async () => {
        const adapter = provider();
        if (!adapter.blend) return;
        const result = await adapter.blend({
          images: [await image(0), await image(1)],
          dimensions: "square",
        });
        const final = await outcomeOf(adapter, result);
        expect(final.status).toBe("completed");
        expect(final.gridUrl ?? final.imageUrls[0]).toBeDefined();
      });

      it("describe ends with suggested prompts", async () => {
        const adapter = provider();
        if (!adapter.describe) return;
        const final = await outcomeOf(adapter, await adapter.describe({ image: await image(2) }));
        expect(final.status).toBe("completed");
        expect(final.descriptions?.length).toBeGreaterThan(0);
      });
    });
  });
}

function asRecord(body: unknown): Record<string, unknown> {
  return typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
}
