// Grid benchmark: the shipped path (composeGrid + encodeForDiscord) against
//   (a) the floor: sharp decodes the same 4 tiles and encodes ONE 2048² image, no composition;
//   (b) @napi-rs/canvas: loadImage ×4, drawImage into a 2048² canvas, encode PNG;
// plus two reference rows: sharp's own `composite` (what the shipped path replaced) and canvas → JPEG.
// Prints figures only; never asserts. Run: node bin/run-ts.mjs bench/grid.ts [iterations]
import { createCanvas, loadImage } from "@napi-rs/canvas";
import sharp from "sharp";
import { discordMaxBytes, encodeForDiscord } from "../src/images/encode.ts";
import { composeGrid } from "../src/images/grid.ts";

const tileSide = 1024;
const iterations = Number(process.argv[2] ?? 20);
const warmups = 2;

interface Measurement {
  p50: number;
  p95: number;
  bytes: number;
}

type GridPath = (tiles: Buffer[]) => Promise<Buffer>;

// ---- deterministic "photographic" tiles: smooth gradients + soft shapes + grain ----

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0; // mulberry32
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Disc {
  x: number;
  y: number;
  radius: number;
  colour: [number, number, number];
}

function photographicRaw(index: number): Buffer {
  const random = seededRandom(index + 1);
  const discs: Disc[] = Array.from({ length: 14 }, () => ({
    x: random() * tileSide,
    y: random() * tileSide,
    radius: 40 + random() * 220,
    colour: [random() * 255, random() * 255, random() * 255],
  }));
  const angle = random() * Math.PI * 2;
  const pixels = Buffer.alloc(tileSide * tileSide * 3);
  for (let y = 0; y < tileSide; y++) {
    for (let x = 0; x < tileSide; x++) {
      let rgb = [
        128 + 100 * Math.sin((x * Math.cos(angle) + y * Math.sin(angle)) / 180 + index),
        128 + 100 * Math.cos(y / 150 - index),
        128 + 90 * Math.sin((x + y) / 220),
      ];
      for (const disc of discs) {
        const dx = x - disc.x;
        const dy = y - disc.y;
        const inside = 1 - Math.min(1, Math.sqrt(dx * dx + dy * dy) / disc.radius);
        const weight = Math.min(0.7, inside * 3); // soft edge
        rgb = rgb.map((channel, c) => channel * (1 - weight) + (disc.colour[c] ?? 0) * weight);
      }
      const grain = (random() - 0.5) * 36;
      const offset = (y * tileSide + x) * 3;
      for (let c = 0; c < 3; c++) pixels[offset + c] = Math.max(0, Math.min(255, (rgb[c] ?? 0) + grain));
    }
  }
  return pixels;
}

async function makeTiles(): Promise<{ png: Buffer[]; jpeg: Buffer[] }> {
  const raws = Array.from({ length: 4 }, (_, index) => photographicRaw(index));
  const base = (raw: Buffer) =>
    sharp(raw, { raw: { width: tileSide, height: tileSide, channels: 3 } }).blur(0.6);
  const png = await Promise.all(raws.map((raw) => base(raw).png().toBuffer()));
  const jpeg = await Promise.all(raws.map((raw) => base(raw).jpeg({ quality: 92 }).toBuffer()));
  return { png, jpeg };
}

// ---- the paths ----

const shipped: GridPath = async (tiles) => (await composeGrid(tiles)).bytes;

/** Decode the 4 tiles, lay their bytes end to end as one 2048² image, encode with the shipped settings. */
const floor: GridPath = async (tiles) => {
  const raws = await Promise.all(tiles.map((tile) => sharp(tile).removeAlpha().raw().toBuffer()));
  const side = tileSide * 2;
  return (await encodeForDiscord({ data: Buffer.concat(raws), width: side, height: side, channels: 3 }))
    .bytes;
};

/** What the spec first suggested: raw tiles through sharp's composite, same encoder settings. */
const sharpComposite: GridPath = async (tiles) => {
  const raws = await Promise.all(tiles.map((tile) => sharp(tile).removeAlpha().raw().toBuffer()));
  const side = tileSide * 2;
  const { data } = await sharp({ create: { width: side, height: side, channels: 3, background: "#000" } })
    .composite(
      raws.map((input, index) => ({
        input,
        raw: { width: tileSide, height: tileSide, channels: 3 as const },
        left: (index % 2) * tileSide,
        top: Math.floor(index / 2) * tileSide,
      })),
    )
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return (await encodeForDiscord({ data, width: side, height: side, channels: 3 })).bytes;
};

function canvasPath(mime: "image/png" | "image/jpeg"): GridPath {
  return async (tiles) => {
    const images = await Promise.all(tiles.map((tile) => loadImage(tile)));
    const canvas = createCanvas(tileSide * 2, tileSide * 2);
    const context = canvas.getContext("2d");
    images.forEach((image, index) => {
      context.drawImage(image, (index % 2) * tileSide, Math.floor(index / 2) * tileSide);
    });
    return mime === "image/png" ? canvas.encode("png") : canvas.encode("jpeg", 90);
  };
}

// ---- measuring and printing ----

/**
 * Runs the paths round-robin (rotating who goes first) so that drift on a shared machine —
 * GC, other processes, thermal — lands on every path alike instead of on whichever ran last.
 */
async function measureInterleaved<K extends string>(
  paths: Record<K, GridPath>,
  tiles: Buffer[],
  runs = iterations,
): Promise<Record<K, Measurement>> {
  const names = Object.keys(paths) as K[];
  const times = new Map<K, number[]>(names.map((name) => [name, []]));
  const bytes = new Map<K, number>();
  for (let run = 0; run < warmups + runs; run++) {
    for (let step = 0; step < names.length; step++) {
      const name = names[(run + step) % names.length] as K;
      const start = performance.now();
      const output = await paths[name](tiles);
      if (run >= warmups) times.get(name)?.push(performance.now() - start);
      bytes.set(name, output.length);
    }
  }
  const summary = {} as Record<K, Measurement>;
  for (const name of names) {
    const sorted = (times.get(name) ?? []).sort((a, b) => a - b);
    summary[name] = {
      p50: percentile(sorted, 0.5),
      p95: percentile(sorted, 0.95),
      bytes: bytes.get(name) ?? 0,
    };
  }
  return summary;
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
}

function row(cells: (string | number)[]): string {
  return cells
    .map((cell, index) => String(cell)[index === 0 ? "padEnd" : "padStart"](index === 0 ? 30 : 11))
    .join("");
}

const ms = (value: number) => value.toFixed(1);
const kib = (value: number) => `${(value / 1024).toFixed(0)} KiB`;
const verdict = (ok: boolean) => (ok ? "ok" : "MISSED");

async function benchmarkInput(label: string, tiles: Buffer[]): Promise<void> {
  const results = await measureInterleaved(
    {
      shipped,
      floor,
      canvas: canvasPath("image/png"),
      composite: sharpComposite,
      canvasJpeg: canvasPath("image/jpeg"),
    },
    tiles,
  );
  console.log(
    `\n${label} tiles (4 × ${tileSide}², ${kib(tiles.reduce((sum, tile) => sum + tile.length, 0))} in)`,
  );
  console.log(row(["path", "p50 ms", "p95 ms", "output", "vs shipped"]));
  const line = (name: string, result: Measurement) =>
    console.log(
      row([
        name,
        ms(result.p50),
        ms(result.p95),
        kib(result.bytes),
        (result.p50 / results.shipped.p50).toFixed(2),
      ]),
    );
  line("(1) shipped: grid + encode", results.shipped);
  line("(a) floor: decode + 1 encode", results.floor);
  line("(b) canvas → PNG", results.canvas);
  line("ref: sharp composite + encode", results.composite);
  line("ref: canvas → JPEG q90", results.canvasJpeg);
  const floorRatio = results.shipped.p50 / results.floor.p50;
  const canvasRatio = results.canvas.p50 / results.shipped.p50;
  console.log(`  shipped/floor  ${floorRatio.toFixed(2)}×  (target ≤ 1.30×)  ${verdict(floorRatio <= 1.3)}`);
  console.log(`  canvas/shipped ${canvasRatio.toFixed(2)}×  (target ≥ 5×)     ${verdict(canvasRatio >= 5)}`);
  console.log(
    `  shipped bytes  ${kib(results.shipped.bytes)} (target ≤ 10 MiB) ${verdict(results.shipped.bytes <= discordMaxBytes)}`,
  );
}

/** White noise is the encoder's worst case: the shipped path must still fit. */
async function benchmarkWorstCase(): Promise<void> {
  const side = 2048;
  const tiles = await Promise.all(
    [1, 2, 3, 4].map((seed) => {
      const random = seededRandom(seed);
      const data = Buffer.alloc(side * side * 3);
      for (let offset = 0; offset < data.length; offset++) data[offset] = random() * 256;
      return sharp(data, { raw: { width: side, height: side, channels: 3 } })
        .png({ compressionLevel: 1 })
        .toBuffer();
    }),
  );
  const { shipped: result } = await measureInterleaved({ shipped }, tiles, 3);
  const grid = await composeGrid(tiles);
  console.log(`\nworst case: 4 × ${side}² white noise → ${grid.width}×${grid.height} ${grid.format}`);
  console.log(
    `  p50 ${ms(result.p50)} ms, ${kib(result.bytes)} (target ≤ 10 MiB) ${verdict(result.bytes <= discordMaxBytes)}`,
  );
}

console.log(
  `grid benchmark: node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), ` +
    `sharp.concurrency ${sharp.concurrency()}, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? "4 (default)"}, ` +
    `${iterations} iterations + ${warmups} warm-up`,
);
const tiles = await makeTiles();
await benchmarkInput("PNG", tiles.png);
await benchmarkInput("JPEG", tiles.jpeg);
await benchmarkWorstCase();
