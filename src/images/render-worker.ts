// The image worker's entry point (see renderer.ts): requests arrive over IPC, results go back the
// same way. A failure is reported per request; the worker keeps serving.
import { handleRenderRequest, type RenderRequest } from "./renderer.ts";

process.on("message", (message: { id: number; request: RenderRequest }) => {
  handleRenderRequest(message.request).then(
    (value) => process.send?.({ id: message.id, ok: true, value }),
    (error: unknown) => process.send?.({ id: message.id, ok: false, error: (error as Error).message }),
  );
});

// The bot going away (crash included) closes the IPC channel: leave with it.
process.on("disconnect", () => process.exit(0));
