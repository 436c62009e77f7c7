import { describe, expect, it } from "vitest";
import { contactSheetLayout, fitCell, gridLayout, sheetColumns } from "../../src/images/geometry.ts";

const square = { width: 1024, height: 1024 };

describe("gridLayout", () => {
  it("places four same-size tiles in reading order with no gaps", () => {
    const layout = gridLayout([square, square, square, square]);
    expect(layout.cell).toEqual(square);
    expect(layout.canvas).toEqual({ width: 2048, height: 2048 });
    expect(layout.placements).toEqual([
      { left: 0, top: 0 },
      { left: 1024, top: 0 },
      { left: 0, top: 1024 },
      { left: 1024, top: 1024 },
    ]);
  });

  it.each([
    [1456, 816], // 16:9
    [896, 1344], // 2:3
    [1232, 928], // 4:3
  ])("keeps a %i×%i tile at full resolution", (width, height) => {
    const tile = { width, height };
    const layout = gridLayout([tile, tile, tile, tile]);
    expect(layout.canvas).toEqual({ width: 2 * width, height: 2 * height });
    expect(layout.placements[3]).toEqual({ left: width, top: height });
  });

  it("takes the cell from the first tile when the others differ slightly", () => {
    const layout = gridLayout([
      { width: 1000, height: 600 },
      { width: 1003, height: 601 },
      { width: 998, height: 600 },
      { width: 1000, height: 599 },
    ]);
    expect(layout.cell).toEqual({ width: 1000, height: 600 });
    expect(layout.canvas).toEqual({ width: 2000, height: 1200 });
  });

  it("shrinks the cell uniformly when the grid would exceed maxSide", () => {
    const tile = { width: 3000, height: 2000 };
    const layout = gridLayout([tile, tile, tile, tile], 4096);
    expect(layout.cell).toEqual({ width: 2048, height: 1365 });
    expect(layout.canvas.width).toBeLessThanOrEqual(4096);
  });

  it("refuses anything but four tiles", () => {
    expect(() => gridLayout([square, square, square])).toThrow(RangeError);
    expect(() => gridLayout([square, square, square, square, square])).toThrow(RangeError);
  });

  it("refuses empty sizes", () => {
    const empty = { width: 0, height: 10 };
    expect(() => gridLayout([empty, empty, empty, empty])).toThrow(RangeError);
  });
});

describe("fitCell", () => {
  it("never enlarges", () => {
    expect(fitCell({ width: 10, height: 20 }, 2, 2, 4096)).toEqual({ width: 10, height: 20 });
  });

  it("limits by the tighter side", () => {
    expect(fitCell({ width: 1000, height: 4000 }, 2, 2, 4000)).toEqual({ width: 500, height: 2000 });
  });
});

describe("contact sheet", () => {
  it.each([
    [1, 6], // square → 6×4 (ties go wide)
    [16 / 9, 4], // landscape → 4×6
    [2 / 3, 6], // portrait → 6×4
    [9 / 16, 6],
  ])("lays 24 tiles of aspect %d in %i columns", (aspect, columns) => {
    expect(sheetColumns(24, aspect)).toBe(columns);
  });

  it("prefers full rectangles over near-square sheets with holes", () => {
    expect(sheetColumns(24, 1)).not.toBe(5);
  });

  it("places 24 square drafts as 6×4 in reading order", () => {
    const tile = { width: 512, height: 512 };
    const layout = contactSheetLayout(Array(24).fill(tile));
    expect([layout.columns, layout.rows]).toEqual([6, 4]);
    expect(layout.canvas).toEqual({ width: 3072, height: 2048 });
    expect(layout.placements[7]).toEqual({ left: 512, top: 512 });
    expect(layout.placements[23]).toEqual({ left: 2560, top: 1536 });
  });

  it("places 24 wide drafts as 4×6", () => {
    const tile = { width: 640, height: 360 };
    const layout = contactSheetLayout(Array(24).fill(tile));
    expect([layout.columns, layout.rows]).toEqual([4, 6]);
    expect(layout.canvas).toEqual({ width: 2560, height: 2160 });
    expect(layout.placements[5]).toEqual({ left: 640, top: 360 });
  });
});
