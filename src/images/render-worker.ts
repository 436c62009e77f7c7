// The image worker's entry point (see renderer.ts): requests arrive over IPC, results go back the
// same way. A failure is reported per request; the worker keeps serving.
import { handleRenderRequest, type RenderRequest } from "./renderer.ts";
import { WorkSlots } from "./work-slots.ts";

// Requests can arrive by the hundred (a burst of finished jobs): fetch the images of only a few at
// once, so memory holds a few sets, not all of them. CPU work inside is bounded separately.
const requestsInProgress = new WorkSlots(3);

process.on("message", (message: { id: number; request: RenderRequest }) => {
  requestsInProgress
    .run(() => handleRenderRequest(message.request))
    .then(
      (value) => process.send?.({ id: message.id, ok: true, value }),
      (error: unknown) => process.send?.({ id: message.id, ok: false, error: (error as Error).message }),
    );
});

// The bot going away (crash included) closes the IPC channel: leave with it.
process.on("disconnect", () => process.exit(0));
