// Realistic prompts and what a user should get back from `checkPrompt`. Data only; run by
// corpus.test.ts. `error` is the parameter the error names ("" for whole-prompt errors);
// otherwise `params` is the exact parameter set of the first job.
import type { PromptParams } from "../../src/prompt/index.ts";

export interface CorpusCase {
  input: string;
  text?: string;
  images?: string[];
  params?: PromptParams;
  /** Number of jobs (`expanded.length`); 1 when absent. */
  jobs?: number;
  /** A warning containing this text must be present. */
  warning?: string;
  /** The parameter named by the expected error; "" for an error about the whole prompt. */
  error?: string;
  /** Text the error message must contain. */
  message?: string;
}

const fox = "https://cdn.discordapp.com/attachments/1/2/fox.png";

export const CORPUS: readonly CorpusCase[] = [
  // Everyday prompts from the seeds and community posts.
  {
    input: "portrait of a cyberpunk hacker, neon lights, cinematic --ar 16:9 --style raw --v 6.1",
    text: "portrait of a cyberpunk hacker, neon lights, cinematic",
    params: { ar: "16:9", style: "raw", v: "6.1" },
  },
  {
    input: "portrait of a scientist, dramatic lighting, oil painting style --ar 3:4 --v 6.1",
    params: { ar: "3:4", v: "6.1" },
  },
  {
    input:
      "portrait of a woman with red hair, business attire --cref https://example.com/character.jpg --cw 100 --v 6.1",
    params: { cref: ["https://example.com/character.jpg"], cw: 100, v: "6.1" },
  },
  {
    input: "portrait of a woman with red hair --cref https://example.com/character.jpg --cw 100",
    error: "--cref",
    message: "use --oref",
  },
  {
    input: "A cinematic shot of a Maine Coon cat on a neon-lit balcony --ar 16:9 --s 500",
    text: "A cinematic shot of a Maine Coon cat on a neon-lit balcony",
    params: { ar: "16:9", stylize: 500 },
  },
  {
    input: "mountain landscape at dawn --sref https://example.com/style.png --sw 500",
    params: { sref: ["https://example.com/style.png"], sw: 500 },
  },
  { input: "a cozy cabin in the woods, watercolor --chaos 20 --ar 2:3", params: { chaos: 20, ar: "2:3" } },
  {
    input: "isometric city block, tiny people, octane render --no text, watermark, blur --ar 1:1",
    params: { no: ["text", "watermark", "blur"], ar: "1:1" },
  },
  { input: "seamless floral pattern, william morris style --tile --v 6", params: { tile: true, v: "6" } },
  { input: "a red fox in snow --seed 12345 --v 7 --q 2", params: { seed: 12345, v: "7", quality: 2 } },
  {
    input: "product photo of a perfume bottle on marble --ar 4:5 --stylize 250 --v 7 --style raw",
    params: { ar: "4:5", stylize: 250, v: "7", style: "raw" },
  },
  { input: "anime girl with umbrella in the rain --niji 6 --ar 9:16", params: { niji: "6", ar: "9:16" } },
  { input: "kawaii cat cafe, pastel --niji 5 --style cute", params: { niji: "5", style: "cute" } },
  {
    input: "a bowl of ramen, studio ghibli style --niji 6 --ar 16:9 --s 400",
    params: { niji: "6", ar: "16:9", stylize: 400 },
  },
  {
    input: 'vintage travel poster of Lisbon, tram, pastel colors, "LISBOA" --ar 2:3 --v 8.1',
    text: 'vintage travel poster of Lisbon, tram, pastel colors, "LISBOA"',
    params: { ar: "2:3", v: "8.1" },
  },
  { input: "a lighthouse in a storm --v 8.1 --hd --ar 16:9", params: { v: "8.1", hd: true, ar: "16:9" } },
  {
    input: "wide shot of a desert caravan --ar 21:9 --c 10 --s 750 --v 7 --style raw --no people",
    params: { ar: "21:9", chaos: 10, stylize: 750, v: "7", style: "raw", no: ["people"] },
  },
  { input: "A Cat In A Hat --AR 1:1", text: "A Cat In A Hat", params: { ar: "1:1" }, warning: "lowercase" },
  { input: "   lots   of    spaces   --ar   16:9  ", text: "lots of spaces", params: { ar: "16:9" } },

  // Image prompts.
  {
    input: `${fox} a knight in the same pose --iw 2`,
    images: [fox],
    text: "a knight in the same pose",
    params: { iw: 2 },
  },
  {
    input: "<https://cdn.discordapp.com/attachments/1/2/ref.jpg> watercolor version",
    images: ["https://cdn.discordapp.com/attachments/1/2/ref.jpg"],
    text: "watercolor version",
    params: {},
  },
  {
    input: "https://a.test/one.png https://a.test/two.webp",
    images: ["https://a.test/one.png", "https://a.test/two.webp"],
    text: "",
    params: {},
  },
  {
    input: "https://a.test/one.PNG https://a.test/two.jpeg https://a.test/three.JPG blend --ar 3:2",
    images: ["https://a.test/one.PNG", "https://a.test/two.jpeg", "https://a.test/three.JPG"],
    text: "blend",
    params: { ar: "3:2" },
  },
  { input: "https://a.test/one.png", error: "", message: "One image needs text" },
  { input: "https://a.test/one.png --ar 16:9", error: "", message: "One image needs text" },
  {
    input: "https://a.test/x.gif?size=large&v=2 dancing robot",
    images: ["https://a.test/x.gif?size=large&v=2"],
    text: "dancing robot",
    params: {},
  },
  {
    input: "https://cdn.discordapp.com/attachments/9/8/image.png?ex=66&is=65&hm=abc& a sunset over dunes",
    images: ["https://cdn.discordapp.com/attachments/9/8/image.png?ex=66&is=65&hm=abc&"],
    text: "a sunset over dunes",
    params: {},
  },
  {
    input: "https://example.com/page a cat",
    images: [],
    text: "https://example.com/page a cat",
    params: {},
  },
  { input: "a cat https://a.test/x.png", images: [], text: "a cat https://a.test/x.png", params: {} },
  { input: "a cat --iw 1.5", params: { iw: 1.5 }, warning: "--iw has no effect without an image prompt" },
  { input: `${fox} a cat --iw 4`, error: "--iw" },

  // Multi-prompts.
  {
    input: "hot dog::2 bun::-0.5 --v 6",
    text: "hot dog::2 bun::-0.5",
    params: { v: "6" },
  },
  { input: "space:: ship --v 5.2", params: { v: "5.2" } },
  { input: "still life::3 apples::-1 pears --v 6.1", params: { v: "6.1" } },
  { input: "cake::-1 --v 6", error: "::", message: "add up to more than 0" },
  { input: "hot::-2 dog", error: "::" },
  { input: "space:: ship::2", params: {}, warning: "V8.1 ignores :: multi-prompt weights" },
  { input: "cathedral::1.5 fog::.5 --niji 6", params: { niji: "6" } },
  { input: 'a banner reading "A::B" --v 6', text: 'a banner reading "A::B"', params: { v: "6" } },

  // Dashes from phones and prose.
  {
    input: "cat —ar 16:9 —v 7",
    text: "cat",
    params: { ar: "16:9", v: "7" },
    warning: "Read “—ar” as “--ar”",
  },
  { input: "cat –ar 3:2", params: { ar: "3:2" }, warning: "Read “–ar” as “--ar”" },
  {
    input: "flat — no gradients, minimal poster --ar 2:3",
    text: "flat — no gradients, minimal poster",
    params: { ar: "2:3" },
  },
  {
    input: "spaces—warm light, boundaries–a study --s 100",
    text: "spaces—warm light, boundaries–a study",
    params: { stylize: 100 },
  },
  { input: "花朵--玫瑰 水彩画 --ar 1:1", text: "花朵--玫瑰 水彩画", params: { ar: "1:1" } },
  { input: "close-up -- macro shot --ar 1:1", text: "close-up -- macro shot", params: { ar: "1:1" } },
  { input: "a cat —vast and blue sky --ar 2:3", text: "a cat —vast and blue sky", params: { ar: "2:3" } },
  {
    input: "pages 10 – 20 of an old book –no words",
    text: "pages 10 – 20 of an old book",
    params: { no: ["words"] },
  },
  { input: "a sports car —NO people", params: { no: ["people"] }, warning: "Read “—NO” as “--no”" },

  // Permutations and repeat.
  { input: "a {red, blue} car --ar 16:9", text: "a red car", params: { ar: "16:9" }, jobs: 2 },
  { input: "a {red, {light, dark} blue} car", text: "a red car", jobs: 3 },
  { input: "a bird --ar {1:1, 16:9, 9:16}", params: { ar: "1:1" }, jobs: 3 },
  { input: "a dog, {sitting\\, calm, running}", text: "a dog, sitting, calm", jobs: 2 },
  { input: "a cat --repeat 3", params: {}, jobs: 3 },
  { input: "a cat --r 10", params: {}, jobs: 10 },
  { input: "a cat --r 11", error: "--repeat", message: "the cap is 10" },
  { input: "{a,b,c,d,e,f} {g,h} cat", error: "", message: "12 jobs" },
  { input: "{red, green} apple --r 2", text: "red apple", jobs: 4 },
  { input: "{red, green} apple --r {1, 2}", text: "red apple", jobs: 6 },
  { input: "a {cat", text: "a {cat", params: {} },
  { input: "a cat}", text: "a cat}", params: {} },
  { input: "a {} cat", text: "a cat", params: {} },
  { input: "a cat --tile --no {cars, trees}", params: { tile: true, no: ["cars"] }, jobs: 2 },
  { input: "a {red, blue} car --ar 1.5:1", error: "--ar", message: "in permutation 1" },
  { input: "a {sunny, rainy} day in {Paris, Rome} --v {6, 7}", text: "a sunny day in Paris", jobs: 8 },
  { input: "a cat --v {6, 7} --stop 50", error: "--stop", message: "in permutation 2" },
  { input: "logo for a \\{brackets\\} company", text: "logo for a {brackets} company" },
  { input: "a {red,} car", text: "a red car", jobs: 2 },

  // Unknown parameters and near misses.
  { input: "a cat --zoom 2", error: "--zoom", message: "Custom Zoom" },
  { input: "a cat --stylise 300", error: "--stylise", message: "did you mean --stylize?" },
  { input: "a cat --ar16:9", error: "--ar16:9", message: "did you mean --ar 16:9?" },
  { input: "a cat --s750", error: "--s750", message: "did you mean --s 750?" },
  { input: "a cat --ra 1:1", error: "--ra", message: "did you mean --ar?" },
  { input: "a cat --chaoss 10", error: "--chaoss", message: "did you mean --chaos?" },
  { input: "a cat --foo", error: "--foo", message: "Unrecognized parameter --foo" },
  { input: "a cat --Seed 7", params: { seed: 7 }, warning: "lowercase" },

  // Value rules.
  { input: "a cat --ar 1.5:1", error: "--ar", message: "W:H with whole numbers" },
  { input: "a cat --ar 16x9", error: "--ar" },
  { input: "a cat --ar 0:1", error: "--ar" },
  { input: "a cat --ar", error: "--ar", message: "needs a value" },
  { input: "a cat --aspect 4:3", params: { ar: "4:3" } },
  { input: "a cat --ar 016:09", params: { ar: "16:9" } },
  { input: "a cat --chaos 101", error: "--chaos", message: "whole number from 0 to 100" },
  { input: "a cat --c 50", params: { chaos: 50 } },
  { input: "a cat --chaos 12.5", error: "--chaos" },
  { input: "a cat --s 1001", error: "--stylize" },
  { input: "a cat --stylize 0", params: { stylize: 0 } },
  { input: "a cat --w 3000 --v 7", params: { weird: 3000, v: "7" } },
  { input: "a cat --weird 500 --v 5.1", error: "--weird", message: "V5.2" },
  { input: "a cat --exp 25", params: { exp: 25 } },
  { input: "a cat --exp 25 --v 6", error: "--exp" },
  { input: "a cat --exp 101", error: "--exp" },
  { input: "a cat --seed 4294967295", params: { seed: 4294967295 } },
  { input: "a cat --seed 4294967296", error: "--seed" },
  { input: "a cat --seed -1", error: "--seed" },
  { input: "a cat --r 0", error: "--repeat" },
  { input: "a cat --stop 50 --v 6", params: { stop: 50, v: "6" } },
  { input: "a cat --stop 5 --v 6", error: "--stop", message: "from 10 to 100" },
  { input: "a cat --stop 80", error: "--stop", message: "not V8.1" },
  { input: "a cat --stop 80 --niji 6", params: { stop: 80, niji: "6" } },

  // Quality depends on the version.
  { input: "a cat --q .5 --v 5", params: { quality: 0.5, v: "5" } },
  { input: "a cat --q 4 --v 7", params: { quality: 4, v: "7" } },
  { input: "a cat --q 3 --v 7", error: "--quality", message: "1, 2 or 4" },
  { input: "a cat --q 2 --v 6", error: "--quality", message: "0.25, 0.5 or 1" },
  { input: "a cat --quality 1", params: {}, warning: "V8.1 ignores --quality" },

  // Versions.
  { input: "a cat --v 6 --niji 6", error: "--v", message: "use one of them" },
  { input: "a cat --version 5.2", params: { v: "5.2" } },
  { input: "a cat --v 5.0", params: { v: "5" }, warning: "Read “--v 5.0” as “--v 5”" },
  { input: "a cat --v 8", params: { v: "8.1" }, warning: "--v 8.1" },
  { input: "a cat --v 9", error: "--v", message: "one of 1, 2, 3, 4, 5, 5.1, 5.2, 6, 6.1, 7, 8.1" },
  { input: "a cat --niji", params: { niji: "7" } },
  { input: "a cat --niji 3", error: "--niji" },

  // References and personalisation.
  { input: "a cat --niji 7 --sref 123456", params: { niji: "7", sref: ["123456"] } },
  { input: "a cat --sref random", params: { sref: ["random"] } },
  {
    input: "a cat --sref 123 456::2 <https://a.test/s.png>",
    params: { sref: ["123", "456::2", "https://a.test/s.png"] },
  },
  { input: "a cat --sref cats", error: "--sref", message: "image URLs, numeric style codes or random" },
  { input: "a cat --niji 4 --sref 1", error: "--sref" },
  { input: "a cat --cref https://a.test/c.png --v 6", params: { cref: ["https://a.test/c.png"], v: "6" } },
  { input: "a cat --cref 123 --v 6", error: "--cref", message: "image URLs" },
  { input: "a cat --cw 101 --cref https://a.test/c.png --v 6", error: "--cw" },
  { input: "a cat --cw 50 --v 6", params: { cw: 50, v: "6" }, warning: "--cw has no effect without --cref" },
  {
    input: "a cat --oref https://a.test/o.png --ow 400 --v 7",
    params: { oref: ["https://a.test/o.png"], ow: 400, v: "7" },
  },
  { input: "a cat --oref https://a.test/o.png --v 6", error: "--oref", message: "use --cref" },
  { input: "a cat --sv 4 --sref 123", params: { sv: 4, sref: ["123"] } },
  { input: "a cat --sw 100", params: { sw: 100 }, warning: "--sw has no effect without --sref" },
  { input: "a cat --p", params: { p: [] } },
  { input: "a cat --p m7161402358513 --v 7", params: { p: ["m7161402358513"], v: "7" } },
  { input: "a cat --profile abc def", params: { p: ["abc", "def"] } },
  { input: "a cat --personalize", params: { p: [] } },
  { input: "a cat --p {abc, def}", params: { p: ["abc"] }, jobs: 2 },

  // Flags, speed and visibility.
  { input: "a cat --fast", params: { fast: true } },
  { input: "a cat --relax", params: { relax: true } },
  { input: "a cat --turbo", params: { turbo: true } },
  { input: "a cat --fast --relax", error: "--fast" },
  { input: "a cat --stealth", params: { stealth: true } },
  { input: "a cat --public", params: { public: true } },
  { input: "a cat --stealth --public", error: "--stealth" },
  { input: "a cat --tile --v 7", params: { tile: true, v: "7" } },
  { input: "a cat --tile yes", error: "--tile", message: "takes no value" },
  { input: "a cat --draft --v 7", params: { draft: true, v: "7" } },
  { input: "a cat --draft --hd", error: "--hd" },
  { input: "a cat --hd", params: { hd: true } },
  { input: "a cat --hd --v 7", error: "--hd" },
  { input: "a cat --draft --v 6", error: "--draft" },

  // Styles.
  { input: "a cat --raw", params: { style: "raw" } },
  { input: "a cat --style RAW", params: { style: "raw" } },
  { input: "a cat --style cute", error: "--style", message: "must be raw" },
  { input: "a cat --style 4a --v 4", params: { style: "4a", v: "4" } },
  { input: "a cat --style raw --v 5", error: "--style" },

  // Legacy flags, duplicates and lists.
  { input: "a cat --beta --upbeta", params: {}, warning: "--beta is an old parameter" },
  { input: "a cat --video", params: {}, warning: "ignored" },
  { input: "a cat --sameseed 5 --ar 1:1", params: { ar: "1:1" }, warning: "--sameseed" },
  { input: "a cat --ar 16:9 --ar 4:3", params: { ar: "4:3" }, warning: "--ar was given twice" },
  { input: "a cat --s 100 --stylize 200", params: { stylize: 200 }, warning: "--stylize was given twice" },
  { input: "a cat --no", error: "--no", message: "needs a value" },
  { input: "a cat --no red, , blue", params: { no: ["red", "blue"] } },
  { input: "a cat --no red --no blue", params: { no: ["blue"] }, warning: "--no was given twice" },
  { input: "a garden --no dead plants, weeds --ar 3:2", params: { no: ["dead plants", "weeds"], ar: "3:2" } },

  // Quoted text.
  {
    input: 'a sign that says "OPEN 24/7" --ar 3:2',
    text: 'a sign that says "OPEN 24/7"',
    params: { ar: "3:2" },
  },
  {
    input: 'a poster with the words "NO --ar HERE" in bold',
    text: 'a poster with the words "NO --ar HERE" in bold',
    params: {},
  },
  { input: 'neon sign "OPEN   LATE" --v 8.1', text: 'neon sign "OPEN   LATE"', params: { v: "8.1" } },
  { input: 'a 12" vinyl record sleeve --ar 1:1', text: 'a 12" vinyl record sleeve', params: { ar: "1:1" } },
  {
    input: "a mug printed “HELLO —ar WORLD” --s 50",
    text: "a mug printed “HELLO —ar WORLD”",
    params: { stylize: 50 },
  },

  // Whole-prompt problems.
  { input: "--ar 16:9", error: "", message: "no text" },
  { input: "", error: "", message: "no text" },
  { input: "a cat --ar 16:9 in a hat", error: "--ar", message: "text belongs before the parameters" },
  { input: `a cat ${"x".repeat(8200)}`, error: "", message: "the limit is 8192" },
];
