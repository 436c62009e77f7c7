// The image worker's entry point (see renderer.ts): requests arrive over IPC, results go back the
// same way. A failure is reported per request; the worker keeps serving.
import { handleRenderRequest, type RenderRequest } from "./renderer.ts";
import { WorkSlots } from "./work-slots.ts";

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
