// Result blobs as `data:` URLs, so tests that `fetch` result links can read what an adapter kept
// (the bot keeps them in its store under `atelier-blob:` links).
import type { ResultBlobs } from "../../src/store/blobs.ts";

export const inlineBlobs: ResultBlobs = {
  put: async (bytes, contentType) => `data:${contentType};base64,${bytes.toString("base64")}`,
  get: async (link) => {
    const match = /^data:([^;,]+);base64,(.*)$/s.exec(link);
    return match ? { contentType: match[1] ?? "", bytes: Buffer.from(match[2] ?? "", "base64") } : undefined;
  },
};
