// BFL's result links are signed and expire about 10 minutes after a task is ready, but people press
// U, V and Zoom hours later. So a finished set is copied at once into Atelier's blobs (the store the
// bot renders from), and follow-ups read the bytes back from there. Downloads carry no key (the
// links are signed), are bounded in time and size, and are logged without their query strings.
import { Agent, type Dispatcher } from "undici";
import { blobScheme, type ResultBlobs } from "../store/blobs.ts";
import { type ProviderLogger, redactExcerpt } from "./http.ts";
import { type ImageInput, ProviderError } from "./types.ts";

export interface ResultImages {
  /** Copies each link into the blobs; returns their blob links, in order. */
  keep(urls: readonly string[], signal?: AbortSignal): Promise<string[]>;
  /** The bytes behind a result link (a blob link, or a BFL link while it is valid). */
  bytesOf(url: string, signal?: AbortSignal): Promise<ImageInput>;
  close(): Promise<void>;
}

/** A link as it may be logged: origin and path, never the signature in its query. */
export function withoutQuery(url: string): string {
  if (!URL.canParse(url)) return redactExcerpt(url, [], 80);
  const { origin, pathname } = new URL(url);
  return `${origin}${pathname}`;
}

/** The downloads of one provider: its limit, its log, and its connections (opened on first use). */
interface Downloads {
  maxBytes: number;
  logger: ProviderLogger;
  agent: Agent | undefined;
}

function agentOf(downloads: Downloads): Agent {
  downloads.agent ??= new Agent({ connectTimeout: 10_000, headersTimeout: 30_000, bodyTimeout: 60_000 });
  return downloads.agent;
}

/** The GET itself; a connection failure is transient (the task is polled again). */
async function requestImage(
  downloads: Downloads,
  url: string,
  image: number,
  signal?: AbortSignal,
): Promise<Dispatcher.ResponseData> {
  try {
    const { origin, pathname, search } = new URL(url);
    return await agentOf(downloads).request({
      origin,
      path: `${pathname}${search}`,
      method: "GET",
      signal: signal ?? null,
    });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    downloads.logger.warn("BFL: could not fetch a result image", { url: withoutQuery(url), error });
    throw new ProviderError("transient", `Atelier could not fetch image ${image} from BFL: trying again.`, {
      code: "result_fetch",
      cause: error,
    });
  }
}

/** Throws for an answer other than 200: an expired link for good, anything else to try again. */
async function refuseErrorStatus(
  downloads: Downloads,
  response: Dispatcher.ResponseData,
  url: string,
  image: number,
): Promise<void> {
  const { statusCode, body } = response;
  if (statusCode === 200) return;
  await body.dump();
  downloads.logger.warn("BFL: a result image link answered an error", {
    url: withoutQuery(url),
    status: statusCode,
  });
  if (statusCode === 403 || statusCode === 404 || statusCode === 410)
    throw new ProviderError(
      "internal",
      `BFL's link to image ${image} no longer works (HTTP ${statusCode}); its links last about 10 minutes after a task ends.`,
      { code: "result_expired" },
    );
  throw new ProviderError("transient", `BFL's image host answered HTTP ${statusCode}: trying again.`, {
    code: "result_fetch",
  });
}

/** The body, given up as soon as it passes `maxBytes`. */
async function readBounded(body: Dispatcher.ResponseData["body"], maxBytes: number, image: number) {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      body.destroy();
      throw new ProviderError("internal", `Image ${image} from BFL is larger than ${maxBytes} bytes.`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function download(
  downloads: Downloads,
  url: string,
  image: number,
  signal?: AbortSignal,
): Promise<ImageInput> {
  if (!/^https?:\/\//i.test(url))
    throw new ProviderError("internal", `BFL gave image ${image} as an unusable link.`);
  const response = await requestImage(downloads, url, image, signal);
  await refuseErrorStatus(downloads, response, url, image);
  const contentType =
    String(response.headers["content-type"] ?? "")
      .split(";")[0]
      ?.trim() ?? "";
  if (!contentType.startsWith("image/")) {
    await response.body.dump();
    throw new ProviderError("internal", `BFL sent image ${image} as ${contentType || "no image"}.`);
  }
  return { bytes: await readBounded(response.body, downloads.maxBytes, image), contentType };
}

async function keptBytes(blobs: ResultBlobs | undefined, url: string): Promise<ImageInput> {
  const blob = await blobs?.get(url);
  if (!blob)
    throw new ProviderError(
      "invalid",
      "This image is no longer kept by Atelier (results are kept for a week).",
      {
        code: "blob_expired",
      },
    );
  return blob;
}

export function createResultImages(options: {
  blobs?: ResultBlobs;
  maxBytes: number;
  logger: ProviderLogger;
}): ResultImages {
  const { blobs } = options;
  const downloads: Downloads = { maxBytes: options.maxBytes, logger: options.logger, agent: undefined };
  return {
    async keep(urls, signal) {
      if (!blobs) return [...urls];
      const images = await Promise.all(urls.map((url, index) => download(downloads, url, index + 1, signal)));
      return Promise.all(images.map((image) => blobs.put(image.bytes, image.contentType)));
    },
    bytesOf: (url, signal) =>
      url.startsWith(blobScheme) ? keptBytes(blobs, url) : download(downloads, url, 1, signal),
    async close() {
      await downloads.agent?.close();
      downloads.agent = undefined;
    },
  };
}

/** Width and height from a PNG, JPEG or WebP header; undefined for anything else. */
export function imageSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length >= 24 && bytes.readUInt32BE(0) === 0x89504e47)
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) return jpegSize(bytes);
  if (
    bytes.length >= 30 &&
    bytes.toString("ascii", 0, 4) === "RIFF" &&
    bytes.toString("ascii", 8, 12) === "WEBP"
  )
    return webpSize(bytes);
  return undefined;
}

function jpegSize(bytes: Buffer): { width: number; height: number } | undefined {
  let offset = 2;
  while (offset + 9 < bytes.length) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1] ?? 0;
    const length = bytes.readUInt16BE(offset + 2);
    // SOF0–SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)
      return { height: bytes.readUInt16BE(offset + 5), width: bytes.readUInt16BE(offset + 7) };
    offset += 2 + length;
  }
  return undefined;
}

function webpSize(bytes: Buffer): { width: number; height: number } | undefined {
  const chunk = bytes.toString("ascii", 12, 16);
  if (chunk === "VP8X") return { width: 1 + bytes.readUIntLE(24, 3), height: 1 + bytes.readUIntLE(27, 3) };
  if (chunk === "VP8L") {
    const bits = bytes.readUInt32LE(21);
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
  }
  if (chunk === "VP8 ")
    return { width: bytes.readUInt16LE(26) & 0x3fff, height: bytes.readUInt16LE(28) & 0x3fff };
  return undefined;
}
