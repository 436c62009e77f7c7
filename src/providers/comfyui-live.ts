// ComfyUI's websocket (`/ws?clientId=`), one per machine: progress and live preview frames of the
// prompts this bot sent. JSON messages carry `prompt_id`; a binary frame is a 4-byte big-endian event
// type (1 = PREVIEW_IMAGE) then a 4-byte image type (1 JPEG, 2 PNG) and the image, and belongs to
// the prompt that machine is running. Nothing here is needed for a result: `/history` decides.
import WebSocket from "ws";
import type { ProviderLogger } from "./http.ts";

export interface LiveEvents {
  started(promptId: string): void;
  progress(promptId: string, value: number, max: number): void;
  preview(promptId: string, image: Buffer, contentType: string): void;
}

const previewImage = 1;
const imageTypes: Record<number, string> = { 1: "image/jpeg", 2: "image/png" };

/** Reads one binary frame; undefined when it is not a preview. */
export function readPreviewFrame(frame: Buffer): { image: Buffer; contentType: string } | undefined {
  if (frame.length < 8 || frame.readUInt32BE(0) !== previewImage) return undefined;
  const contentType = imageTypes[frame.readUInt32BE(4)];
  return contentType ? { image: frame.subarray(8), contentType } : undefined;
}

export class LiveFeed {
  private socket: WebSocket | undefined;
  private running: string | undefined;

  constructor(
    private readonly baseUrl: string,
    private readonly clientId: string,
    private readonly events: LiveEvents,
    private readonly logger: ProviderLogger,
  ) {}

  /** Connects if not connected; resolves once open, or after `waitMs` whatever happened (previews are a bonus). */
  async ensure(waitMs = 2_000): Promise<void> {
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) return;
    const url = new URL(
      `ws?clientId=${encodeURIComponent(this.clientId)}`,
      `${this.baseUrl.replace(/^http/, "ws")}/`,
    );
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.on("message", (data: Buffer, isBinary: boolean) => this.take(data, isBinary));
    socket.on("error", (error) =>
      this.logger.debug("ComfyUI: websocket error", { url: this.baseUrl, error: String(error) }),
    );
    socket.on("close", () => {
      if (this.socket === socket) this.socket = undefined;
    });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      timer.unref();
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      socket.once("open", done);
      socket.once("close", done);
    });
  }

  close(): void {
    this.socket?.terminate();
    this.socket = undefined;
  }

  private take(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      const frame = readPreviewFrame(data);
      if (frame && this.running) this.events.preview(this.running, frame.image, frame.contentType);
      return;
    }
    let message: { type?: string; data?: Record<string, unknown> };
    try {
      message = JSON.parse(data.toString("utf8"));
    } catch {
      return;
    }
    const body = message.data ?? {};
    const promptId = typeof body.prompt_id === "string" ? body.prompt_id : undefined;
    if (promptId === undefined) return;
    switch (message.type) {
      case "execution_start":
        this.running = promptId;
        this.events.started(promptId);
        break;
      case "executing":
        this.running = body.node === null ? undefined : promptId;
        break;
      case "progress":
        this.events.progress(promptId, Number(body.value), Number(body.max));
        break;
      default:
        break;
    }
  }
}
