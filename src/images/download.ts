// Downloads a result image without letting a URL reach into the bot's own network (SSRF), without
// unbounded memory or time, and without trusting what the server says the bytes are.
//
// Trust model: the configured provider base URLs (`allowedHttpOrigins`) are trusted — plain http
// and private addresses are fine there (emulators on 127.0.0.1, self-hosted backends). Any other
// URL must be https and resolve only to public addresses; the connection is pinned to the very
// addresses that were checked, so a second DNS answer cannot swap in 127.0.0.1 (DNS rebinding).
// Redirects are followed by hand and every hop is judged again.
import type { LookupAddress } from "node:dns";
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP, type LookupFunction } from "node:net";
import sharp from "sharp";
import { Agent, type Dispatcher, request } from "undici";
import { isPublicAddress } from "./address.ts";
import { contentTypeOf, type ImageFormat, sniffImageFormat } from "./sniff.ts";

export interface DownloadPolicy {
  /** Provider base URLs (any path); only their origins matter. These may use http and private addresses. */
  allowedHttpOrigins: string[];
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** Whole download budget (DNS, connect, every redirect, body), in milliseconds. */
  timeoutMs: number;
  /** Largest decoded size accepted (width × height), against decompression bombs. Default 64 MP. */
  maxPixels?: number;
  /** Name resolution, replaceable in tests. Default: the system resolver, all addresses. */
  resolveHost?: (hostname: string) => Promise<LookupAddress[]>;
}

export interface DownloadedImage {
  bytes: Buffer;
  format: ImageFormat;
  width: number;
  height: number;
}

export type ImageDownloadFailure =
  | "blocked-address"
  | "too-large"
  | "timeout"
  | "http-status"
  | "not-an-image"
  | "network";

/** A failed download. `message` is safe to show to users: it never contains a query string. */
export class ImageDownloadError extends Error {
  override readonly name = "ImageDownloadError";
  readonly reason: ImageDownloadFailure;
  /** Origin and path of the URL that failed (query and fragment dropped: they may carry signed tokens). */
  readonly url: string;
  /** The HTTP status, for `http-status`. */
  readonly status?: number;

  constructor(
    reason: ImageDownloadFailure,
    message: string,
    options: { url: string; status?: number; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.url = options.url;
    this.status = options.status;
  }
}

const defaultMaxPixels = 64_000_000;
const maxRedirects = 3;
const redirectStatuses = new Set([301, 302, 303, 307, 308]);

/**
 * Fetches an image under `policy`. Throws ImageDownloadError; when `signal` (the caller's
 * cancellation) fires, its reason is thrown unchanged so cancellation stays distinguishable.
 */
export async function downloadImage(
  url: string,
  policy: DownloadPolicy,
  signal?: AbortSignal,
): Promise<DownloadedImage> {
  signal?.throwIfAborted();
  if (url.startsWith("data:")) return inlineImage(url, policy);
  const deadline = AbortSignal.timeout(policy.timeoutMs);
  const combined = signal === undefined ? deadline : AbortSignal.any([signal, deadline]);
  let target = parseUrl(url);
  try {
    for (let redirects = 0; ; redirects++) {
      const outcome = await fetchOnce(target, policy, combined);
      if (outcome.kind === "body") return await describeImage(outcome.bytes, target, policy);
      if (redirects === maxRedirects) {
        throw new ImageDownloadError("http-status", `Too many redirects downloading ${safeUrl(target)}.`, {
          url: safeUrl(target),
        });
      }
      target = redirectTarget(outcome.location, target);
    }
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw toDownloadError(error, target, deadline, policy);
  }
}

/**
 * A `data:` URL: bytes a provider gave inline (kept as a blob, see src/store/blobs.ts). Only the bot
 * makes these — a prompt's links are never data: URLs (src/prompt refuses them) — and they pass
 * the same size, pixel and type checks as a download.
 */
async function inlineImage(url: string, policy: DownloadPolicy): Promise<DownloadedImage> {
  const match = /^data:[^;,]*;base64,(.*)$/s.exec(url);
  const target = new URL("data:inline");
  if (!match)
    throw new ImageDownloadError("not-an-image", "An inline image is not base64 data.", { url: "data:" });
  const bytes = Buffer.from(match[1] ?? "", "base64");
  if (bytes.length > policy.maxBytes)
    throw new ImageDownloadError("too-large", `An inline image is larger than ${policy.maxBytes} bytes.`, {
      url: "data:",
    });
  return describeImage(bytes, target, policy);
}

/**
 * An image a person attached (to /blend, /describe), fetched under the same policy as results and
 * labelled by its bytes, never by the server's Content-Type. Throws ImageDownloadError.
 */
export async function downloadSourceImage(
  url: string,
  policy: DownloadPolicy,
  signal?: AbortSignal,
): Promise<{ bytes: Buffer; contentType: string }> {
  const image = await downloadImage(url, policy, signal);
  return { bytes: image.bytes, contentType: contentTypeOf(image.format) };
}

/** Scheme, host and path only: credentials, query and fragment may be secrets (signed URLs). */
export function safeUrl(url: URL): string {
  const text = `${url.protocol}//${url.host}${url.pathname}`;
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

type FetchOutcome = { kind: "body"; bytes: Buffer } | { kind: "redirect"; location: string };

async function fetchOnce(target: URL, policy: DownloadPolicy, signal: AbortSignal): Promise<FetchOutcome> {
  const dispatcher = await dispatcherFor(target, policy, signal);
  try {
    const response = await request(target, {
      dispatcher,
      signal,
      method: "GET",
      headers: { accept: "image/png,image/jpeg,image/webp,image/gif", "accept-encoding": "identity" },
    });
    const { statusCode, headers, body } = response;
    if (redirectStatuses.has(statusCode)) {
      discard(body);
      const location = firstHeader(headers.location);
      if (location === undefined) throw statusError(target, statusCode);
      return { kind: "redirect", location };
    }
    if (statusCode < 200 || statusCode >= 300) {
      discard(body);
      throw statusError(target, statusCode);
    }
    const declaredLength = Number(firstHeader(headers["content-length"]));
    if (declaredLength > policy.maxBytes) {
      discard(body);
      throw tooLargeError(target, policy.maxBytes);
    }
    return { kind: "body", bytes: await readCapped(body, policy.maxBytes, target) };
  } finally {
    await dispatcher.destroy();
  }
}

/** A fresh agent per hop: trusted origins connect normally, anything else only to checked addresses. */
async function dispatcherFor(target: URL, policy: DownloadPolicy, signal: AbortSignal): Promise<Dispatcher> {
  if (isTrustedOrigin(target, policy)) return new Agent();
  if (target.protocol !== "https:") {
    throw new ImageDownloadError(
      "blocked-address",
      `Refused to download ${safeUrl(target)}: only https URLs are allowed.`,
      { url: safeUrl(target) },
    );
  }
  const addresses = await resolvePublicAddresses(target, policy, signal);
  return new Agent({ connect: { lookup: pinnedLookup(addresses) } });
}

function isTrustedOrigin(target: URL, policy: DownloadPolicy): boolean {
  return policy.allowedHttpOrigins.some(
    (allowed) => URL.canParse(allowed) && new URL(allowed).origin === target.origin,
  );
}

/** Resolves the host and insists that EVERY answer is public (one private answer is enough to refuse). */
async function resolvePublicAddresses(
  target: URL,
  policy: DownloadPolicy,
  signal: AbortSignal,
): Promise<LookupAddress[]> {
  const host = target.hostname.replace(/^\[(.*)\]$/, "$1");
  const literalFamily = isIP(host);
  const addresses =
    literalFamily === 0
      ? await untilAborted((policy.resolveHost ?? systemResolve)(host), signal)
      : [{ address: host, family: literalFamily }];
  if (addresses.length === 0) {
    throw new ImageDownloadError("network", `Could not resolve ${target.hostname}.`, {
      url: safeUrl(target),
    });
  }
  if (!addresses.every((entry) => isPublicAddress(entry.address))) {
    throw new ImageDownloadError(
      "blocked-address",
      `Refused to download ${safeUrl(target)}: it points to a private or local address.`,
      { url: safeUrl(target) },
    );
  }
  return addresses;
}

function systemResolve(hostname: string): Promise<LookupAddress[]> {
  return dnsLookup(hostname, { all: true, order: "verbatim" });
}

/**
 * A `lookup` for net/tls.connect that answers only with the pre-checked addresses, so the socket
 * goes where the check looked. Handles both the single-answer and the `all: true` form
 * (Node's happy-eyeballs connect asks for all).
 */
export function pinnedLookup(addresses: readonly LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const family = options.family === "IPv4" ? 4 : options.family === "IPv6" ? 6 : (options.family ?? 0);
    const matching = addresses.filter((entry) => family === 0 || entry.family === family);
    const first = matching[0];
    if (first === undefined) {
      callback(Object.assign(new Error("no pinned address for this family"), { code: "ENOTFOUND" }), "");
    } else if (options.all) {
      callback(null, matching);
    } else {
      callback(null, first.address, first.family);
    }
  };
}

async function readCapped(body: AsyncIterable<Buffer>, maxBytes: number, target: URL): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  // Leaving the loop early (throw) destroys the stream, which stops the transfer.
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) throw tooLargeError(target, maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

async function describeImage(bytes: Buffer, target: URL, policy: DownloadPolicy): Promise<DownloadedImage> {
  const format = sniffImageFormat(bytes);
  const notAnImage = () =>
    new ImageDownloadError("not-an-image", `${safeUrl(target)} is not a PNG, JPEG, WebP or GIF image.`, {
      url: safeUrl(target),
    });
  if (format === undefined) throw notAnImage();
  const metadata = await sharp(bytes)
    .metadata()
    .catch(() => {
      throw notAnImage();
    });
  // Dimensions as displayed, i.e. after EXIF orientation (the grid applies it too).
  const { width, height } = metadata.autoOrient;
  if (width * height > (policy.maxPixels ?? defaultMaxPixels)) {
    throw new ImageDownloadError("too-large", `The image at ${safeUrl(target)} has too many pixels.`, {
      url: safeUrl(target),
    });
  }
  return { bytes, format, width, height };
}

function parseUrl(url: string): URL {
  if (URL.canParse(url)) return new URL(url);
  // Never echo the input: a malformed URL may still carry a token.
  throw new ImageDownloadError("blocked-address", "Refused to download an invalid URL.", {
    url: "(invalid)",
  });
}

function redirectTarget(location: string, from: URL): URL {
  if (URL.canParse(location, from.href)) return new URL(location, from);
  throw new ImageDownloadError("http-status", `${safeUrl(from)} redirected to an invalid URL.`, {
    url: safeUrl(from),
  });
}

function toDownloadError(
  error: unknown,
  target: URL,
  deadline: AbortSignal,
  policy: DownloadPolicy,
): ImageDownloadError {
  if (error instanceof ImageDownloadError) return error;
  const url = safeUrl(target);
  if (deadline.aborted) {
    const seconds = Math.round(policy.timeoutMs / 100) / 10;
    return new ImageDownloadError("timeout", `Downloading ${url} took longer than ${seconds} s.`, {
      url,
      cause: error,
    });
  }
  const code = (error as { code?: unknown } | null)?.code;
  const detail = typeof code === "string" ? ` (${code})` : "";
  return new ImageDownloadError("network", `Could not download ${url}${detail}.`, { url, cause: error });
}

function statusError(target: URL, status: number): ImageDownloadError {
  const url = safeUrl(target);
  return new ImageDownloadError("http-status", `${url} answered HTTP ${status}.`, { url, status });
}

function tooLargeError(target: URL, maxBytes: number): ImageDownloadError {
  const url = safeUrl(target);
  const megabytes = Math.round((maxBytes / 1024 / 1024) * 10) / 10;
  return new ImageDownloadError("too-large", `The image at ${url} is larger than ${megabytes} MB.`, { url });
}

/** Drops a response body we will not read; destroying an unread body emits an abort error we expect. */
function discard(body: Dispatcher.ResponseData["body"]): void {
  body.on("error", () => {});
  body.destroy();
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Rejects with the signal's reason as soon as it fires (dns.lookup itself cannot be cancelled). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
