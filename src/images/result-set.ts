// A finished set as people see it: the separate images, fetched safely, and the picture shown in
// Discord (our 2×2 grid, a contact sheet for drafts, or the provider's own grid used as is).
import sharp from "sharp";
import { type DownloadedImage, type DownloadPolicy, downloadImage } from "./download.ts";
import { type EncodedImage, encodeForDiscord } from "./encode.ts";
import { composeContactSheet, composeGrid } from "./grid.ts";

export interface ResultSource {
  imageUrls: string[];
  gridUrl?: string;
}

export interface ResultSet {
  /** What goes on the message: the grid (or the single image for a set of one). */
  shown: EncodedImage;
  /** The separate images in reading order (cut from the provider's grid when it gave no others). */
  images: DownloadedImage[];
}

export async function fetchImages(
  urls: string[],
  policy: DownloadPolicy,
  signal?: AbortSignal,
): Promise<DownloadedImage[]> {
  return Promise.all(urls.map((url) => downloadImage(url, policy, signal)));
}

/** Cuts a provider's 2×2 grid into its four images, reading order. */
export async function splitGrid(grid: DownloadedImage): Promise<DownloadedImage[]> {
  const width = Math.floor(grid.width / 2);
  const height = Math.floor(grid.height / 2);
  const corners = [
    [0, 0],
    [width, 0],
    [0, height],
    [width, height],
  ] as const;
  return Promise.all(
    corners.map(async ([left, top]) => ({
      bytes: await sharp(grid.bytes).extract({ left, top, width, height }).png().toBuffer(),
      format: "png" as const,
      width,
      height,
    })),
  );
}

export async function renderResultSet(
  source: ResultSource,
  policy: DownloadPolicy,
  signal?: AbortSignal,
): Promise<ResultSet> {
  if (source.imageUrls.length === 0) {
    if (!source.gridUrl) throw new Error("The finished task has no images.");
    const [grid] = await fetchImages([source.gridUrl], policy, signal);
    const downloaded = grid as DownloadedImage;
    return {
      shown: await encodeForDiscord(downloaded.bytes, { baseName: "grid" }),
      images: await splitGrid(downloaded),
    };
  }
  const images = await fetchImages(source.imageUrls, policy, signal);
  const tiles = images.map((image) => image.bytes);
  if (images.length === 1)
    return { shown: await encodeForDiscord(tiles[0] as Buffer, { baseName: "image" }), images };
  const shown = images.length === 4 ? await composeGrid(tiles) : await composeContactSheet(tiles);
  return { shown, images };
}
