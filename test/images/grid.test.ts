import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { composeContactSheet, composeGrid } from "../../src/images/grid.ts";
import { sniffImageFormat } from "../../src/images/sniff.ts";
import {
  colourDistance,
  type Decoded,
  decode,
  quadrantColours,
  type Rgb,
  solidTile,
  type TileFormat,
} from "./tiles.ts";

const tolerance = 12; // JPEG output drifts a few levels even on flat colour

function expectColourAt(image: Decoded, x: number, y: number, colour: Rgb): void {
  const pixel = image.pixel(x, y);
  expect(colourDistance(pixel, colour), `pixel (${x}, ${y}) = ${pixel} vs ${colour}`).toBeLessThanOrEqual(
    tolerance,
  );
}

function quadrantTiles(width: number, height: number, formats: TileFormat[] = ["png", "png", "png", "png"]) {
  return Promise.all(
    quadrantColours.map((colour, index) => solidTile(width, height, colour, formats[index])),
  );
}

describe("composeGrid", () => {
  it.each([
    ["1:1", 240, 240],
    ["3:2", 300, 200],
    ["2:3", 200, 300],
    ["16:9", 320, 180],
  ])("puts %s tiles 1 2 / 3 4 at full resolution", async (_ratio, width, height) => {
    const grid = await composeGrid(await quadrantTiles(width, height));
    const image = await decode(grid.bytes);
    expect([image.width, image.height]).toEqual([2 * width, 2 * height]);
    expect([grid.width, grid.height]).toEqual([2 * width, 2 * height]);
    const centres = [
      [width / 2, height / 2],
      [width * 1.5, height / 2],
      [width / 2, height * 1.5],
      [width * 1.5, height * 1.5],
    ] as const;
    centres.forEach(([x, y], index) => {
      expectColourAt(image, x, y, quadrantColours[index] as Rgb);
    });
  });

  it("accepts mixed input formats", async () => {
    const grid = await composeGrid(await quadrantTiles(128, 96, ["png", "jpeg", "webp", "gif"]));
    const image = await decode(grid.bytes);
    expectColourAt(image, 64, 48, quadrantColours[0] as Rgb);
    expectColourAt(image, 192, 48, quadrantColours[1] as Rgb);
    expectColourAt(image, 64, 144, quadrantColours[2] as Rgb);
    expectColourAt(image, 192, 144, quadrantColours[3] as Rgb);
  });

  it("fits slightly different tiles into the first tile's cell with no gap", async () => {
    const sizes = [
      [300, 200],
      [303, 201],
      [298, 200],
      [300, 197],
    ] as const;
    const tiles = await Promise.all(
      sizes.map(([width, height], index) => solidTile(width, height, quadrantColours[index] as Rgb)),
    );
    const image = await decode((await composeGrid(tiles)).bytes);
    expect([image.width, image.height]).toEqual([600, 400]);
    // Corners of every cell, a few pixels in (JPEG blocks blur the exact seam): a gap would be black.
    const inset = 4;
    for (const [index, colour] of quadrantColours.entries()) {
      const left = (index % 2) * 300;
      const top = Math.floor(index / 2) * 200;
      for (const [x, y] of [
        [left + inset, top + inset],
        [left + 299 - inset, top + inset],
        [left + inset, top + 199 - inset],
        [left + 299 - inset, top + 199 - inset],
      ] as const) {
        expectColourAt(image, x, y, colour);
      }
    }
  });

  it("shrinks uniformly when the grid would exceed maxSide", async () => {
    const grid = await composeGrid(await quadrantTiles(400, 300), { maxSide: 500 });
    expect([grid.width, grid.height]).toEqual([500, 374]);
    const image = await decode(grid.bytes);
    expect([image.width, image.height]).toEqual([500, 374]);
    expectColourAt(image, 375, 280, quadrantColours[3] as Rgb);
  });

  it("flattens transparent tiles and labels the output by its real format", async () => {
    const transparent = await sharp({
      create: { width: 64, height: 64, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 0 } },
    })
      .png()
      .toBuffer();
    const tiles = [transparent, ...(await quadrantTiles(64, 64)).slice(1)];
    const grid = await composeGrid(tiles);
    expect(sniffImageFormat(grid.bytes)).toBe("jpeg");
    expect(grid).toMatchObject({ format: "jpeg", fileName: "grid.jpg", contentType: "image/jpeg" });
    expectColourAt(await decode(grid.bytes), 32, 32, [0, 0, 0]);
  });

  it("refuses a set that is not four images", async () => {
    await expect(composeGrid(await quadrantTiles(32, 32).then((tiles) => tiles.slice(0, 3)))).rejects.toThrow(
      RangeError,
    );
  });

  it("refuses tiles that are not images", async () => {
    const tiles = await quadrantTiles(32, 32);
    tiles[2] = Buffer.from("<html>nope</html>");
    await expect(composeGrid(tiles)).rejects.toThrow();
  });
});

/** 24 colours at least 80 levels apart in some channel. */
function draftColour(index: number): Rgb {
  return [(index % 3) * 120, (Math.floor(index / 3) % 4) * 80, Math.floor(index / 12) * 200];
}

describe("composeContactSheet", () => {
  it.each([
    ["square", 64, 64, 6, 4],
    ["16:9", 64, 36, 4, 6],
    ["2:3", 40, 60, 6, 4],
  ])("lays out 24 %s drafts in reading order", async (_label, width, height, columns, rows) => {
    const tiles = await Promise.all(
      Array.from({ length: 24 }, (_, index) => solidTile(width, height, draftColour(index))),
    );
    const sheet = await composeContactSheet(tiles);
    const image = await decode(sheet.bytes);
    expect([image.width, image.height]).toEqual([columns * width, rows * height]);
    expect(sheet.fileName).toBe("drafts.jpg");
    for (let index = 0; index < 24; index++) {
      const x = (index % columns) * width + Math.floor(width / 2);
      const y = Math.floor(index / columns) * height + Math.floor(height / 2);
      expectColourAt(image, x, y, draftColour(index));
    }
  });
});
