import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { discordMaxBytes, encodeForDiscord } from "../../src/images/encode.ts";
import { composeGrid } from "../../src/images/grid.ts";
import { sniffImageFormat } from "../../src/images/sniff.ts";
import { decode, noiseRaw, noiseTile, solidTile } from "./tiles.ts";

describe("encodeForDiscord", () => {
  it("always fits the grid under 10 MiB, even for 4 × 2048² white noise", async () => {
    const tiles = await Promise.all([1, 2, 3, 4].map((seed) => noiseTile(2048, 2048, seed)));
    const grid = await composeGrid(tiles);
    expect(grid.bytes.length).toBeLessThanOrEqual(discordMaxBytes);
    expect(sniffImageFormat(grid.bytes)).toBe(grid.format);
    const image = await decode(grid.bytes);
    expect([image.width, image.height]).toEqual([grid.width, grid.height]);
    expect(grid.width).toBe(grid.height); // shrinking keeps the aspect ratio
  });

  it("shrinks until it fits a tight limit, keeping the aspect ratio", async () => {
    const raw = { data: noiseRaw(1600, 900, 3, 7), width: 1600, height: 900, channels: 3 as const };
    const maxBytes = 200 * 1024;
    const encoded = await encodeForDiscord(raw, { maxBytes });
    expect(encoded.bytes.length).toBeLessThanOrEqual(maxBytes);
    expect(encoded.width).toBeLessThan(1600);
    expect(encoded.width / encoded.height).toBeCloseTo(16 / 9, 1);
    const image = await decode(encoded.bytes);
    expect([image.width, image.height]).toEqual([encoded.width, encoded.height]);
  });

  it("passes an already-fitting PNG through untouched", async () => {
    const png = await solidTile(100, 50, [10, 20, 30]);
    const encoded = await encodeForDiscord(png, { baseName: "U1" });
    expect(encoded.bytes.equals(png)).toBe(true);
    expect(encoded).toMatchObject({
      format: "png",
      width: 100,
      height: 50,
      fileName: "U1.png",
      contentType: "image/png",
    });
  });

  it("re-encodes an input that is too big, as JPEG", async () => {
    const png = await noiseTile(512, 512, 3);
    const maxBytes = png.length - 1;
    const encoded = await encodeForDiscord(png, { maxBytes });
    expect(encoded.bytes.length).toBeLessThanOrEqual(maxBytes);
    expect(sniffImageFormat(encoded.bytes)).toBe("jpeg");
    expect(encoded).toMatchObject({ format: "jpeg", fileName: "image.jpg", contentType: "image/jpeg" });
  });

  it("re-encodes when asked not to keep the original, and for GIF", async () => {
    const png = await solidTile(64, 64, [200, 100, 0]);
    expect((await encodeForDiscord(png, { keepOriginalIfFits: false })).format).toBe("jpeg");
    const gif = await solidTile(64, 64, [200, 100, 0], "gif");
    expect(sniffImageFormat((await encodeForDiscord(gif)).bytes)).toBe("jpeg");
  });

  it("keeps real transparency by choosing WebP", async () => {
    const data = Buffer.alloc(64 * 64 * 4, 255);
    for (let offset = 3; offset < data.length / 2; offset += 4) data[offset] = 0; // top half transparent
    const encoded = await encodeForDiscord({ data, width: 64, height: 64, channels: 4 });
    expect(sniffImageFormat(encoded.bytes)).toBe("webp");
    expect(encoded).toMatchObject({ format: "webp", fileName: "image.webp", contentType: "image/webp" });
    const image = await decode(encoded.bytes);
    expect(image.channels).toBe(4);
    expect(image.pixel(10, 5)[3]).toBe(0);
    expect(image.pixel(10, 60)[3]).toBe(255);
  });

  it("treats an opaque alpha channel as opaque (JPEG)", async () => {
    const data = Buffer.alloc(32 * 32 * 4, 255);
    const encoded = await encodeForDiscord({ data, width: 32, height: 32, channels: 4 });
    expect(encoded.format).toBe("jpeg");
    expect((await sharp(encoded.bytes).metadata()).channels).toBe(3);
  });

  it("throws instead of returning something over an impossible limit", async () => {
    const raw = { data: noiseRaw(64, 64, 3), width: 64, height: 64, channels: 3 as const };
    await expect(encodeForDiscord(raw, { maxBytes: 100 })).rejects.toThrow(RangeError);
  });
});
