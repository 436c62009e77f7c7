// Prompt language benchmark: throughput on a realistic mix, and the time adversarial 8,192-character
// prompts take (each must stay in the low milliseconds: no regex backtracking, no expansion blow-up).
// Run: node bin/run-ts.mjs bench/prompt.ts. Prints figures; asserts nothing.
import { checkPrompt, parsePrompt } from "../src/prompt/index.ts";

const REALISTIC: readonly string[] = [
  "portrait of a cyberpunk hacker, neon lights, cinematic --ar 16:9 --style raw --v 6.1",
  "A cinematic shot of a Maine Coon cat on a neon-lit balcony --ar 16:9 --s 500",
  "isometric city block, tiny people, octane render --no text, watermark, blur --ar 1:1",
  "https://cdn.discordapp.com/attachments/1/2/ref.png?ex=66&hm=ab a knight in the same pose --iw 2 --v 7",
  "<https://a.test/one.png> <https://a.test/two.webp>",
  "anime girl with umbrella in the rain —ar 9:16 —niji 6",
  "hot dog::2 bun::-0.5 ketchup --v 6 --chaos 20",
  'vintage travel poster of Lisbon, tram, pastel colors, "LISBOA" --ar 2:3 --v 8.1 --hd',
  "mountain landscape at dawn --sref https://example.com/style.png 123456 --sw 500 --p",
  "wide shot of a desert caravan, golden hour, dust --ar 21:9 --c 10 --s 750 --v 7 --style raw --no people",
  "a {red, blue, green} vintage car parked by the sea --ar {3:2, 16:9}",
  "product photo of a perfume bottle on marble, soft light, 85mm --ar 4:5 --stylize 250 --seed 42 --r 2",
  "flat — no gradients, minimal poster, spaces—warm palette --ar 2:3 --tile",
  "a fox --chaos 300",
  "a cat --stylise 200 --ar 16:9",
];

function adversarial(): [string, string][] {
  const size = 8192;
  const fill = (piece: string, prefix = "") =>
    prefix + piece.repeat(Math.ceil((size - prefix.length) / piece.length)).slice(0, size - prefix.length);
  return [
    ["nested braces {{{…}}}", `${"{".repeat(size / 2)}${"}".repeat(size / 2)}`],
    ["nested options {a,{b,{…}}}", fill("{a,")],
    ["1,365 groups {a,b} {a,b} …", fill("{a,b} ")],
    ["one group of 4,000 options", `{${fill("a,", "").slice(2)}}`],
    ["unmatched braces", fill("{")],
    ["escaped commas \\,", fill("\\,", "{a, b")],
    ["em dashes ———", fill("—")],
    ["double dashes ----", fill("-")],
    ["dash tokens — – --", fill("— – -- ")],
    ["repeated flags —tile", fill(" —tile", "a cat")],
    ["colons ::::", fill(":")],
    ["weights a::-1 b::2", fill(" a::-1 b::2", "c")],
    ["commas in --no ,,,,", fill(",", "a cat --no ")],
    ["items in --no x, y, …", fill("x y, ", "a cat --no ")],
    ['quotes """', fill('"')],
    ["curly quotes “““", fill("“")],
    ["long unknown name", fill("x", "a cat --")],
    ["long --ar value", fill("1", "a cat --ar ")],
    ["many spaces", fill(" a  ")],
  ];
}

function perSecond(run: (input: string) => unknown, inputs: readonly string[], milliseconds: number): number {
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < milliseconds) {
    for (const input of inputs) run(input);
    count += inputs.length;
  }
  return Math.round((count * 1000) / (performance.now() - start));
}

function medianMs(run: () => unknown, times = 15): number {
  const samples: number[] = [];
  for (let index = 0; index < times; index++) {
    const start = performance.now();
    run();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? 0;
}

function outcome(input: string): string {
  const result = checkPrompt(input);
  const text = result.ok ? `ok, ${result.expanded.length} job(s)` : `error: ${result.error.message}`;
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

perSecond((input) => checkPrompt(input), REALISTIC, 300); // warm up the JIT
console.log(`Realistic mix (${REALISTIC.length} prompts, one core):`);
console.log(
  `  parsePrompt  ${perSecond((input) => parsePrompt(input), REALISTIC, 1500).toLocaleString("en")} prompts/s`,
);
console.log(
  `  checkPrompt  ${perSecond((input) => checkPrompt(input), REALISTIC, 1500).toLocaleString("en")} prompts/s`,
);
console.log("");
console.log("Adversarial prompts (8,192 characters, median of 15):");
console.log(
  `  ${"input".padEnd(30)} ${"parse ms".padStart(9)} ${"check ms".padStart(9)}  outcome of checkPrompt`,
);
for (const [name, input] of adversarial()) {
  const parse = medianMs(() => parsePrompt(input)).toFixed(2);
  const check = medianMs(() => checkPrompt(input)).toFixed(2);
  console.log(`  ${name.padEnd(30)} ${parse.padStart(9)} ${check.padStart(9)}  ${outcome(input)}`);
}
