// The image worker's entry point (see renderer.ts): requests arrive over IPC, results go back the
// same way. A failure is reported per request; the worker keeps serving.
import { availableParallelism } from "node:os";
import sharp from "sharp";
import { handleRenderRequest, type RenderRequest } from "./renderer.ts";
import { imageSlots, WorkSlots } from "./work-slots.ts";

// This process runs at a lower priority and holds no job store: composing on every core cannot
// delay an answer, and one grid at a time left a core idle while grids queued (bench/bot.ts: at
// 10 /imagine/s, 1.0 of 2 cores busy and provider completed → grid p50 3.8 s; with both, 2.0 s).
imageSlots.setLimit(availableParallelism());
// libvips keeps recent operations and their pixels for reuse; no two results here share an input,
// so the cache only holds memory (up to 50 MB).
sharp.cache(false);

// Requests can arrive by the hundred (a burst of finished jobs): work on a bounded number at once,
// so memory holds some sets, not all of them. The bound is generous because a request may be
// waiting on a slow image host (every fetch has its own deadline): a few stalled hosts must not
// hold back everyone else's images. CPU work inside is bounded separately (imageSlots).
const requestsInProgress = new WorkSlots(16);

process.on("message", (message: { id: number; request: RenderRequest }) => {
  requestsInProgress
    .run(() => handleRenderRequest(message.request))
    .then(
      (value) => process.send?.({ id: message.id, ok: true, value }),
      (error: unknown) =>
        process.send?.({
          id: message.id,
          ok: false,
          error: (error as Error).message,
          reason: (error as { reason?: string }).reason,
        }),
    );
});

// The bot going away (crash included) closes the IPC channel: leave with it.
process.on("disconnect", () => process.exit(0));
