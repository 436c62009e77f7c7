// The AUTOMATIC1111 adapter against the in-repo emulator of its web UI API: the shared provider
// contract (minus the cases that assume a task kept on the provider's side), then what is particular
// to A1111 (a1111.test.ts): exact request bodies, progress and preview, basic auth, one job per
// machine, and a pool that moves a job off a machine that stopped answering.
import { beforeEach } from "vitest";
import { type A1111Emulator, startA1111Emulator } from "../../emulators/index.ts";
import { createA1111Provider } from "../../src/providers/a1111.ts";
import { runProviderContract } from "./contract.ts";
import { inlineBlobs } from "./inline-blobs.ts";

/**
 * Contract cases written for a service that keeps the task and is polled for it. A1111's txt2img
 * blocks until the images are done, so the adapter sends it in the background: `imagine` returns
 * before any request is answered and `fetchTask` reads the adapter's own record. The HTTP client's
 * create and read rules are the shared ones; what each case protects for A1111 is in a1111.test.ts.
 */
const notForAdapterKeptTasks: Record<string, string> = {
  "a wrong key is auth, names the setting, and is not retried": "the task fails as auth: see 'basic auth'",
  "a refused prompt is refused, naming the word, with advice to rephrase":
    "A1111's API has no content filter to refuse a prompt",
  "a 200 poll of an unexpected shape is internal, logged once without the key": "fetchTask sends no request",
  "a 429 burst on polling is retried and succeeds": "fetchTask sends no request",
  "a 429 with Retry-After on create is retried after that delay, making one task":
    "txt2img is sent after imagine returns",
  "a 503 on create (not processed) is retried": "txt2img is sent after imagine returns",
  "a 500 after processing a create is NOT retried and says it may have started":
    "txt2img is sent after imagine returns; see 'a 422'",
  "a truncated or malformed create answer is internal, maybe submitted, and sent once":
    "txt2img is sent after imagine returns",
  "a malformed or truncated poll answer is retried like a 5xx": "fetchTask sends no request",
};

beforeEach((context) => {
  const why = notForAdapterKeptTasks[context.task.name];
  if (why) context.skip(why);
});

runProviderContract<A1111Emulator>("a1111", {
  start: (key) => startA1111Emulator({ auth: `atelier:${key}`, stepMs: 2 }),
  adapter: (_emulator, { baseUrl, apiKey, logger, sleep }) =>
    createA1111Provider({
      urls: [baseUrl],
      auth: `atelier:${apiKey}`,
      blobs: inlineBlobs,
      logger,
      http: { clock: { sleep } },
      nativeSide: 96,
      steps: 10,
      pollIntervalMs: 5,
    }),
  keySetting: "A1111_AUTH",
  baseUrlSetting: "A1111_URL",
  callbackField: "callback_url",
  unknownTaskId: "a1111.set.0.7.9.0.0badc0de",
  size: { set: [128, 64], upscale: [256, 128] },
  refuse: () => {},
  refusalReasonIsWord: false,
  stall: (target) => {
    target.knobs.stall = true;
  },
  reset: (target) => {
    target.knobs.stall = false;
    target.knobs.hang = false;
    target.knobs.interruptAtStep = undefined;
  },
});
