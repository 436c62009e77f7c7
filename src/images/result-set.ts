// A finished set as people see it: the separate images, fetched safely, and the picture shown in
// Discord (our 2×2 grid, a contact sheet for drafts, or the provider's own grid used as is).
import sharp from "sharp";
import { type DownloadedImage, type DownloadPolicy, downloadImage } from "./download.ts";
import { type EncodedImage, encodeForDiscord } from "./encode.ts";
import { composeContactSheet, composeGrid } from "./grid.ts";
import { imageSlots } from "./work-slots.ts";

export interface ResultSource {
  imageUrls: string[];
  gridUrl?: string;
}

export interface ResultSet {
  /** What goes on the message: the provider's grid as is, else our grid (or the single image). */
  shown: EncodedImage;
  /** The separate images in reading order (cut from the provider's grid when it gave no others); empty unless asked for. */
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

function composeShown(images: DownloadedImage[]): Promise<EncodedImage> {
  const tiles = images.map((image) => image.bytes);
  return imageSlots.run(() => {
    if (tiles.length === 1) return encodeForDiscord(tiles[0] as Buffer, { baseName: "image" });
    return tiles.length === 4 ? composeGrid(tiles) : composeContactSheet(tiles);
  });
}

/**
 * The picture for the message and, when `separate` is asked (the terminal pipeline), each image.
 * A provider's own grid is shown as it is: no need to fetch four images to rebuild it.
 */
export async function renderResultSet(
  source: ResultSource,
  policy: DownloadPolicy,
  options: { separate?: boolean; signal?: AbortSignal } = {},
): Promise<ResultSet> {
  const single = source.imageUrls.length === 1;
  if (source.gridUrl && !single) {
    const [grid] = (await fetchImages([source.gridUrl], policy, options.signal)) as [DownloadedImage];
    const shown = await imageSlots.run(() => encodeForDiscord(grid.bytes, { baseName: "grid" }));
    if (!options.separate) return { shown, images: [] };
    const images =
      source.imageUrls.length > 0
        ? await fetchImages(source.imageUrls, policy, options.signal)
        : await splitGrid(grid);
    return { shown, images };
  }
  if (source.imageUrls.length === 0) throw new Error("The finished task has no images.");
  const images = await fetchImages(source.imageUrls, policy, options.signal);
  return { shown: await composeShown(images), images: options.separate ? images : [] };
}
