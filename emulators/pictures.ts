// Procedural pictures for the playground: a gradient sky and a handful of shapes whose colours come
// from the prompt's words and whose layout comes from the seed and the image's place in the set, so a
// re-roll, another image of the set and a variation all look different, and a variation still looks
// like its parent. No fonts and no randomness outside the seed: the same spec gives the same picture.

/** What one picture follows. */
export interface PictureSpec {
  /** The prompt as sent (parameters and image links are ignored; the words pick the colours). */
  prompt: string;
  /** The set's seed (`--seed n` when the prompt has one). */
  seed: number;
  /** 0-based place in the set. */
  index: number;
  /** Variations applied in order, oldest first: each moves the shapes by `strength` (0–1) of the picture. */
  variations?: readonly { seed: number; strength: number }[];
}

type Hsl = [h: number, s: number, l: number];

// Words that name a colour, or a thing with an obvious one.
const wordHues: Record<string, Hsl> = {
  red: [0, 80, 50],
  crimson: [348, 80, 45],
  orange: [28, 90, 55],
  fox: [24, 85, 52],
  fire: [16, 90, 52],
  sunset: [18, 85, 58],
  yellow: [52, 95, 55],
  gold: [45, 80, 50],
  golden: [45, 80, 50],
  sun: [48, 95, 58],
  green: [120, 60, 42],
  forest: [130, 50, 30],
  grass: [95, 60, 45],
  leaf: [100, 60, 40],
  teal: [178, 70, 38],
  cyan: [186, 85, 50],
  blue: [215, 80, 50],
  sky: [205, 75, 62],
  sea: [200, 75, 40],
  ocean: [205, 80, 35],
  water: [195, 70, 45],
  ice: [190, 60, 80],
  night: [235, 50, 18],
  purple: [275, 65, 48],
  violet: [270, 70, 60],
  lavender: [265, 55, 75],
  magenta: [305, 80, 50],
  pink: [330, 80, 72],
  rose: [340, 70, 60],
  brown: [25, 50, 32],
  wood: [30, 45, 35],
  desert: [38, 60, 62],
  sand: [42, 55, 70],
  white: [0, 0, 94],
  snow: [200, 30, 92],
  black: [0, 0, 8],
  gray: [0, 0, 50],
  grey: [0, 0, 50],
  silver: [210, 10, 72],
};

/** FNV-1a, 32-bit. */
export function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** mulberry32: a small seeded generator giving numbers in [0, 1). */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The words of a prompt: its text before the first parameter, without image links. */
export function promptWords(prompt: string): string[] {
  const text = prompt.split(/\s--?[a-z]/i)[0] ?? "";
  return text
    .split(/\s+/)
    .filter((token) => token !== "" && !/^https?:\/\//i.test(token))
    .map((token) => token.toLowerCase().replace(/[^a-z0-9]/g, ""))
    .filter((word) => word !== "");
}

/** The seed a prompt asks for with `--seed n`, if any. */
export function seedOf(prompt: string): number | undefined {
  const match = /(?:^|\s)--seed\s+(\d+)/.exec(prompt);
  return match ? Number(match[1]) >>> 0 : undefined;
}

/** Three to five colours: the prompt's colour words first, then hues derived from its text. */
function paletteFor(words: string[]): Hsl[] {
  const named = words.flatMap((word) => {
    const hue = wordHues[word] ?? wordHues[word.replace(/e?s$/, "")];
    return hue ? [hue] : [];
  });
  const next = generator(hashText(words.join(" ")));
  const base = named[0]?.[0] ?? Math.floor(next() * 360);
  const derived: Hsl[] = [0, 1, 2, 3].map((step) => [
    (base + 30 + step * (60 + next() * 50)) % 360,
    45 + next() * 40,
    30 + next() * 40,
  ]);
  return [...named.slice(0, 3), ...derived].slice(0, Math.max(3, Math.min(5, named.length + 2)));
}

/** `#rrggbb` for a colour, lightened (or darkened, negative) by `shift` points. */
function css([h, s, l]: Hsl, shift = 0): string {
  const light = Math.max(4, Math.min(96, l + shift)) / 100;
  const chroma = (s / 100) * Math.min(light, 1 - light);
  const channel = (n: number) => {
    const k = (n + h / 30) % 12;
    const value = light - chroma * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(value * 255)
      .toString(16)
      .padStart(2, "0");
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}

interface Shape {
  kind: "circle" | "rect" | "triangle";
  x: number;
  y: number;
  size: number;
  turn: number;
  colour: number;
  opacity: number;
}

function shapesFor(spec: PictureSpec, paletteSize: number): Shape[] {
  const next = generator(
    hashText(`${spec.seed}:${spec.index}`) ^ hashText(promptWords(spec.prompt).join(" ")),
  );
  const count = 5 + Math.floor(next() * 5);
  const kinds = ["circle", "rect", "triangle"] as const;
  const shapes: Shape[] = Array.from({ length: count }, () => ({
    kind: kinds[Math.floor(next() * kinds.length)] ?? "circle",
    x: next(),
    y: 0.25 + next() * 0.75,
    size: 0.08 + next() * 0.3,
    turn: next() * 360,
    colour: Math.floor(next() * paletteSize),
    opacity: 0.55 + next() * 0.4,
  }));
  for (const variation of spec.variations ?? []) {
    const jitter = generator(variation.seed);
    const move = (value: number) => value + (jitter() - 0.5) * variation.strength;
    for (const shape of shapes) {
      shape.x = move(shape.x);
      shape.y = move(shape.y);
      shape.size = Math.max(0.04, shape.size * (1 + (jitter() - 0.5) * variation.strength * 2));
      shape.turn += (jitter() - 0.5) * 180 * variation.strength;
      if (jitter() < variation.strength / 2) shape.colour = Math.floor(jitter() * paletteSize);
    }
  }
  return shapes;
}

function shapeSvg(shape: Shape, palette: Hsl[], width: number, height: number): string {
  const unit = Math.min(width, height);
  const cx = shape.x * width;
  const cy = shape.y * height;
  const r = shape.size * unit;
  const fill = `fill="${css(palette[shape.colour] ?? [0, 0, 50])}" fill-opacity="${shape.opacity.toFixed(2)}"`;
  const turn = `transform="rotate(${shape.turn.toFixed(1)} ${cx.toFixed(1)} ${cy.toFixed(1)})"`;
  switch (shape.kind) {
    case "circle":
      return `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${r.toFixed(1)}" ${fill}/>`;
    case "rect":
      return `<rect x="${(cx - r).toFixed(1)}" y="${(cy - r * 0.7).toFixed(1)}" width="${(2 * r).toFixed(1)}" height="${(1.4 * r).toFixed(1)}" rx="${(r * 0.15).toFixed(1)}" ${fill} ${turn}/>`;
    default: {
      const points = [0, 120, 240]
        .map((angle) => {
          const radians = (angle * Math.PI) / 180;
          return `${(cx + r * Math.sin(radians)).toFixed(1)},${(cy - r * Math.cos(radians)).toFixed(1)}`;
        })
        .join(" ");
      return `<polygon points="${points}" ${fill} ${turn}/>`;
    }
  }
}

/** The picture as SVG (rendered to pixels by the caller). */
export function pictureSvg(spec: PictureSpec, width: number, height: number): string {
  const words = promptWords(spec.prompt);
  const palette = paletteFor(words);
  const next = generator(hashText(`${spec.seed}:${spec.index}:sky`));
  const sky = palette[(spec.index + 1) % palette.length] ?? [210, 50, 50];
  const ground = palette[spec.index % palette.length] ?? [30, 50, 40];
  const horizon = 0.45 + next() * 0.3;
  const sun = { x: 0.15 + next() * 0.7, y: 0.1 + next() * 0.25, r: 0.06 + next() * 0.08 };
  const shapes = shapesFor(spec, palette.length)
    .map((shape) => shapeSvg(shape, palette, width, height))
    .join("");
  const unit = Math.min(width, height);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">`,
    `<stop offset="0" stop-color="${css(sky, 25)}"/><stop offset="1" stop-color="${css(sky, -5)}"/>`,
    `</linearGradient><linearGradient id="ground" x1="0" y1="0" x2="0" y2="1">`,
    `<stop offset="0" stop-color="${css(ground, 5)}"/><stop offset="1" stop-color="${css(ground, -25)}"/>`,
    `</linearGradient></defs>`,
    `<rect width="${width}" height="${height}" fill="url(#sky)"/>`,
    `<circle cx="${(sun.x * width).toFixed(1)}" cy="${(sun.y * height).toFixed(1)}" r="${(sun.r * unit).toFixed(1)}" fill="${css(sky, 40)}"/>`,
    `<rect y="${(horizon * height).toFixed(1)}" width="${width}" height="${height}" fill="url(#ground)"/>`,
    shapes,
    `</svg>`,
  ].join("");
}
