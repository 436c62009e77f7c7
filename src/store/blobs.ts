// Images a provider hands back as bytes rather than links (OpenAI and Gemini answer in base64) are
// kept in the store under an `atelier-blob:` link: job records stay small, the grid is composed
// from them like from any link, and follow-ups (V, U, edits) can send them back. They expire.
import { randomUUID } from "node:crypto";
import type Keyv from "keyv";

export const blobScheme = "atelier-blob:";

export interface Blob {
  bytes: Buffer;
  contentType: string;
}

/** Where adapters put result bytes, and read them back for a follow-up. */
export interface ResultBlobs {
  /** Keeps the bytes; returns the link that stands for them in job records. */
  put(bytes: Buffer, contentType: string): Promise<string>;
  /** The bytes behind a link from `put`; undefined when expired or unknown. */
  get(link: string): Promise<Blob | undefined>;
}

export function isBlobLink(url: string): boolean {
  return url.startsWith(blobScheme);
}

/** Blobs in the shared keyv (SQLite or Redis), base64-encoded, for `ttlMs` (default a week). */
export class BlobStore implements ResultBlobs {
  constructor(
    private readonly keyv: Keyv,
    private readonly ttlMs = 7 * 24 * 60 * 60_000,
  ) {}

  async put(bytes: Buffer, contentType: string): Promise<string> {
    const id = randomUUID();
    await this.keyv.set(`blob:${id}`, { type: contentType, data: bytes.toString("base64") }, this.ttlMs);
    return `${blobScheme}${id}`;
  }

  async get(link: string): Promise<Blob | undefined> {
    if (!isBlobLink(link)) return undefined;
    const stored = await this.keyv.get<{ type: string; data: string }>(
      `blob:${link.slice(blobScheme.length)}`,
    );
    return stored ? { bytes: Buffer.from(stored.data, "base64"), contentType: stored.type } : undefined;
  }
}

/** A result's links with every blob link replaced by its `data:` URL (other links unchanged). */
export async function inlineBlobLinks<S extends { imageUrls: string[]; gridUrl?: string }>(
  blobs: ResultBlobs,
  source: S,
): Promise<S> {
  const inline = (url: string) => (isBlobLink(url) ? blobAsDataUrl(blobs, url) : Promise.resolve(url));
  const imageUrls = await Promise.all(source.imageUrls.map(inline));
  return {
    ...source,
    imageUrls,
    gridUrl: source.gridUrl === undefined ? undefined : await inline(source.gridUrl),
  };
}

/** `data:` URL of a blob, so code that fetches links (the image worker) can read it without the store. */
export async function blobAsDataUrl(blobs: ResultBlobs, link: string): Promise<string> {
  const blob = await blobs.get(link);
  if (!blob) throw new Error("The image is no longer kept (results given as bytes are kept for a week).");
  return `data:${blob.contentType};base64,${blob.bytes.toString("base64")}`;
}
