// Pure layout arithmetic for grids and contact sheets: no pixels, no I/O, so it is unit-tested alone.
//
// Rule for tiles of (slightly) different sizes: the FIRST tile defines the cell, because the set's
// aspect ratio is what the user asked for and the first image is always present; other tiles are
// scaled to cover the cell (centre crop, so no gaps and no distortion). The cell keeps full
// resolution unless the whole layout would exceed `maxSide` on either side; then it shrinks uniformly.

export interface Size {
  width: number;
  height: number;
}

export interface Placement {
  left: number;
  top: number;
}

export interface Layout {
  columns: number;
  rows: number;
  cell: Size;
  canvas: Size;
  /** Where tile i goes, in reading order (left to right, then top to bottom). */
  placements: Placement[];
}

/** Default cap on a composed image's side: 2×2 of 2048² HD tiles still fits at full resolution. */
export const defaultMaxSide = 4096;

/** The 2×2 grid: 1 2 / 3 4, like Midjourney, with no gaps. */
export function gridLayout(tiles: readonly Size[], maxSide = defaultMaxSide): Layout {
  if (tiles.length !== 4) throw new RangeError(`A grid needs 4 images, got ${tiles.length}.`);
  return layoutFor(tiles, 2, 2, maxSide);
}

/** A contact sheet for many small images (24 drafts → 6×4 or 4×6, whichever is closer to square). */
export function contactSheetLayout(tiles: readonly Size[], maxSide = defaultMaxSide): Layout {
  const first = firstTile(tiles);
  const columns = sheetColumns(tiles.length, first.width / first.height);
  return layoutFor(tiles, columns, Math.ceil(tiles.length / columns), maxSide);
}

const emptyCellPenalty = 0.5;

/**
 * Columns for `count` tiles of aspect `tileAspect`: the sheet whose overall shape is closest to
 * square wins; an empty cell costs more than the 6×4-vs-5×5 shape difference, so full rectangles
 * are preferred; ties go to more columns (wider suits Discord's message layout).
 */
export function sheetColumns(count: number, tileAspect: number): number {
  let best = { columns: 1, score: Number.POSITIVE_INFINITY };
  for (let columns = 1; columns <= count; columns++) {
    const rows = Math.ceil(count / columns);
    const sheetAspect = (columns * tileAspect) / rows;
    const score = Math.abs(Math.log(sheetAspect)) + emptyCellPenalty * (columns * rows - count);
    if (score <= best.score + 1e-9) best = { columns, score };
  }
  return best.columns;
}

function layoutFor(tiles: readonly Size[], columns: number, rows: number, maxSide: number): Layout {
  const cell = fitCell(firstTile(tiles), columns, rows, maxSide);
  const placements = tiles.map((_, index) => ({
    left: (index % columns) * cell.width,
    top: Math.floor(index / columns) * cell.height,
  }));
  return {
    columns,
    rows,
    cell,
    canvas: { width: columns * cell.width, height: rows * cell.height },
    placements,
  };
}

/** The first tile's size, shrunk uniformly (never enlarged) so the layout fits in maxSide². */
export function fitCell(tile: Size, columns: number, rows: number, maxSide: number): Size {
  const scale = Math.min(1, maxSide / (tile.width * columns), maxSide / (tile.height * rows));
  return {
    width: Math.max(1, Math.floor(tile.width * scale)),
    height: Math.max(1, Math.floor(tile.height * scale)),
  };
}

function firstTile(tiles: readonly Size[]): Size {
  const first = tiles[0];
  if (first === undefined) throw new RangeError("A layout needs at least one image.");
  if (!(first.width > 0 && first.height > 0)) throw new RangeError("Image sizes must be positive.");
  return first;
}
