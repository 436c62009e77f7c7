// Builds the 2×2 grid (and the draft contact sheet) from separate result images.
//
// Pipeline: each tile is decoded exactly once, straight into its cell size as raw 8-bit RGB
// (resize only when it differs), the raw rows are copied into one canvas buffer, and the canvas is
// encoded once. Copying rows replaces sharp's `composite`, which we measured at ~140 ms extra for a
// 2048² grid (it adds an alpha channel and blends every pixel) against ~9 ms for the copy; the tiles
// never overlap, so there is nothing to blend. See bench/grid.ts.
import sharp from "sharp";
import { type EncodedImage, encodeForDiscord, type RawImage } from "./encode.ts";
import { contactSheetLayout, gridLayout, type Layout, type Placement, type Size } from "./geometry.ts";

export interface ComposeOptions {
  /** Size limit of the encoded result. Default: Discord's 10 MiB. */
  maxBytes?: number;
  /** Longest allowed side of the composed image before encoding. Default 4096. */
  maxSide?: number;
  /** Refuse any tile larger than this many pixels (decompression bombs). Default 64 MP. */
  maxInputPixels?: number;
  /** File name without extension. Default "grid" / "drafts". */
  baseName?: string;
}

const defaultMaxInputPixels = 64_000_000;
const channels = 3;

/** Four images → one 2×2 image, 1 2 / 3 4, no gaps, encoded for Discord. */
export async function composeGrid(tiles: Buffer[], options: ComposeOptions = {}): Promise<EncodedImage> {
  const layout = gridLayout(await readSizes(tiles, options), options.maxSide);
  const canvas = await composeRaw(tiles, layout, options);
  return encodeForDiscord(canvas, { maxBytes: options.maxBytes, baseName: options.baseName ?? "grid" });
}

/** Many small images (24 drafts) → one sheet, 6×4 or 4×6 by aspect ratio, reading order. */
export async function composeContactSheet(
  tiles: Buffer[],
  options: ComposeOptions = {},
): Promise<EncodedImage> {
  const layout = contactSheetLayout(await readSizes(tiles, options), options.maxSide);
  const canvas = await composeRaw(tiles, layout, options);
  return encodeForDiscord(canvas, { maxBytes: options.maxBytes, baseName: options.baseName ?? "drafts" });
}

/** Header-only reads (no decoding): the layout needs sizes before any pixels. */
async function readSizes(tiles: Buffer[], options: ComposeOptions): Promise<Size[]> {
  return Promise.all(
    tiles.map(async (tile) => {
      const metadata = await sharp(tile, { limitInputPixels: maxInputPixels(options) }).metadata();
      return metadata.autoOrient;
    }),
  );
}

async function composeRaw(tiles: Buffer[], layout: Layout, options: ComposeOptions): Promise<RawImage> {
  const { canvas, cell } = layout;
  const size = canvas.width * canvas.height * channels;
  // Every byte is overwritten when all cells are used; otherwise zero-fill so empty cells are black.
  const full = tiles.length === layout.columns * layout.rows;
  const data = full ? Buffer.allocUnsafe(size) : Buffer.alloc(size);
  const decoded = await Promise.all(tiles.map((tile) => decodeIntoCell(tile, cell, maxInputPixels(options))));
  decoded.forEach((pixels, index) => {
    const placement = layout.placements[index];
    if (placement !== undefined) copyTile(data, canvas.width, pixels, cell, placement);
  });
  return { data, width: canvas.width, height: canvas.height, channels };
}

/** Decodes once to raw RGB at exactly the cell size: centre-cropped cover, so never a gap. */
async function decodeIntoCell(tile: Buffer, cell: Size, limitInputPixels: number): Promise<Buffer> {
  const { data, info } = await sharp(tile, { limitInputPixels })
    .autoOrient()
    .resize(cell.width, cell.height, { fit: "cover", position: "centre" })
    .flatten({ background: "#000000" }) // transparent areas read as black, like Discord's dark theme
    .toColourspace("srgb")
    .raw({ depth: "uchar" })
    .toBuffer({ resolveWithObject: true });
  if (info.width !== cell.width || info.height !== cell.height || info.channels !== channels) {
    throw new Error(`Tile decoded to ${info.width}×${info.height}×${info.channels}, expected the cell size.`);
  }
  return data;
}

/** Copies a tile's rows into the canvas at its placement (both raw RGB, row-major). */
function copyTile(canvas: Buffer, canvasWidth: number, tile: Buffer, cell: Size, placement: Placement): void {
  const rowBytes = cell.width * channels;
  for (let row = 0; row < cell.height; row++) {
    const targetOffset = ((placement.top + row) * canvasWidth + placement.left) * channels;
    tile.copy(canvas, targetOffset, row * rowBytes, (row + 1) * rowBytes);
  }
}

function maxInputPixels(options: ComposeOptions): number {
  return options.maxInputPixels ?? defaultMaxInputPixels;
}
