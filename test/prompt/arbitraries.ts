// fast-check arbitraries: hostile text for the never-throw properties, and valid ParsedPrompts
// (built from the parameter and version tables) for the render/parse round trip.
import fc from "fast-check";
import {
  CONFLICTS,
  DEFAULT_VERSION,
  type ModelVersion,
  PARAMETERS,
  type ParamKey,
  type ParsedPrompt,
  type PromptParams,
  type PromptSegment,
  type ValueSpec,
  VERSIONS,
} from "../../src/prompt/index.ts";

/** Fragments that stress the tokenizer, markers, weights, permutations and quotes. */
const FRAGMENTS = [
  "--",
  "—",
  "–",
  "-",
  "::",
  ":",
  "{",
  "}",
  ",",
  "\\,",
  "\\",
  '"',
  "“",
  "”",
  "<",
  ">",
  " ",
  "  ",
  "\n",
  "\t",
  "ar",
  "AR",
  "16:9",
  "1.5:1",
  "no",
  "v",
  "6",
  "7",
  "8.1",
  "niji",
  "s",
  "250",
  "-1",
  ".5",
  "::-2",
  "::2",
  "repeat",
  "r",
  "3",
  "sref",
  "random",
  "https://a.test/x.png",
  "<https://a.test/y.jpg>",
  "tile",
  "raw",
  "style",
  "p",
  "花朵",
  "🦊",
  "\u0000",
  "\u200b",
  "stop",
  "q",
  "hd",
  "draft",
  "zoom",
  "cat",
  "a",
];

/** Arbitrary input: fragment soup, full unicode, and long runs of one troublesome character. */
export const hostileInput: fc.Arbitrary<string> = fc.oneof(
  fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 60 }).map((parts) => parts.join("")),
  fc.string({ unit: "grapheme", maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc
    .tuple(
      fc.constantFrom("{", "}", "—", "--a ", ":: ", ",", "{a,", '"', "\\"),
      fc.integer({ min: 1, max: 9000 }),
    )
    .map(([piece, times]) => piece.repeat(Math.ceil(times / piece.length))),
);

const letter = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz");
const word = fc.string({ unit: letter, minLength: 1, maxLength: 8 });
const proseToken = fc.oneof(
  { weight: 8, arbitrary: word },
  fc.constantFrom(
    "spaces—warm",
    "boundaries–a",
    "—",
    "花朵--玫瑰",
    "café",
    "3:2",
    "{braces}",
    "a,b",
    "🦊",
    "--",
  ),
  fc.tuple(word, word).map(([a, b]) => `"${a.toUpperCase()}  ${b}"`),
);
const prose = fc.array(proseToken, { minLength: 1, maxLength: 8 }).map((tokens) => tokens.join(" "));

const weightValue = fc.constantFrom(undefined, 2, 0.5, -0.5, -1, 1.25, 3, 0);
const segmentsArb: fc.Arbitrary<PromptSegment[]> = fc
  .array(fc.record({ text: prose, weight: weightValue }), { minLength: 1, maxLength: 4 })
  .map((segments) => segments.map(({ text, weight }) => (weight === undefined ? { text } : { text, weight })))
  .filter((segments) => segments.reduce((sum, segment) => sum + (segment.weight ?? 1), 0) > 0);

function segmentText(segments: readonly PromptSegment[]): string {
  return segments.map((segment) => `${segment.text}::${segment.weight ?? ""}`).join(" ");
}

const url = fc
  .tuple(word, fc.constantFrom("png", "jpg", "jpeg", "webp", "gif"), fc.boolean())
  .map(([name, extension, query]) => `https://img.test/${name}.${extension}${query ? "?ex=1&hm=2" : ""}`);

function valueArb(spec: ValueSpec, model: ModelVersion, key: ParamKey): fc.Arbitrary<unknown> | undefined {
  if (key === "quality") return model.quality.length > 0 ? fc.constantFrom(...model.quality) : undefined;
  if (key === "style") return model.styles.length > 0 ? fc.constantFrom(...model.styles) : undefined;
  switch (spec.kind) {
    case "flag":
      return fc.constant(true);
    case "integer":
      return fc.integer({ min: spec.min, max: spec.max });
    case "decimal":
      return fc.integer({ min: spec.min * 4, max: spec.max * 4 }).map((quarters) => quarters / 4);
    case "ratio":
      return fc
        .tuple(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 64 }))
        .map(([w, h]) => `${w}:${h}`);
    case "commaList":
      return fc.array(
        fc.array(word, { minLength: 1, maxLength: 3 }).map((words) => words.join(" ")),
        {
          minLength: 1,
          maxLength: 4,
        },
      );
    case "references": {
      const forms = spec.forms.map((form) =>
        form === "url"
          ? url
          : form === "code"
            ? fc.integer({ min: 0, max: 1e9 }).map(String)
            : fc.constant("random"),
      );
      return fc.array(fc.oneof(...forms), { minLength: 1, maxLength: 3 });
    }
    case "codes":
      return fc.array(
        fc.string({ unit: fc.constantFrom(..."abc0123456789xyz"), minLength: 1, maxLength: 12 }),
        {
          maxLength: 3,
        },
      );
    default:
      return undefined; // word and model values are handled above and by the model choice
  }
}

/** Params a model accepts, with at most one parameter of each conflicting group. */
function paramsArb(model: ModelVersion): fc.Arbitrary<PromptParams> {
  const excluded = new Set<ParamKey>(["v", "niji", ...(model.ignores ?? [])]);
  for (const conflict of CONFLICTS) for (const key of conflict.keys.slice(1)) excluded.add(key);
  const entries: Record<string, fc.Arbitrary<unknown>> = {};
  for (const definition of PARAMETERS) {
    if (excluded.has(definition.key) || !model.accepts.includes(definition.key)) continue;
    const arbitrary = valueArb(definition.value, model, definition.key);
    if (arbitrary) entries[definition.key] = arbitrary;
  }
  const modelParam: PromptParams =
    model.family === "niji"
      ? { niji: model.version }
      : model.version === DEFAULT_VERSION
        ? {}
        : { v: model.version };
  return fc
    .record(entries, { requiredKeys: [] })
    .map((params) => ({ ...modelParam, ...(params as PromptParams) }));
}

/** A valid prompt exactly as `parsePrompt` would return it (warnings aside). */
export const validPrompt: fc.Arbitrary<ParsedPrompt> = fc
  .constantFrom(...VERSIONS)
  .chain((model) =>
    fc.record({
      images: fc.array(url, { maxLength: 3 }),
      body: fc.oneof(
        prose.map((text) => ({ text })),
        segmentsArb.map((segments) => ({ segments })),
      ),
      params: paramsArb(model),
    }),
  )
  .filter(({ images, body }) => images.length >= 2 || "segments" in body || body.text !== "")
  .map(({ images, body, params }) => {
    if ("segments" in body)
      return { images, text: segmentText(body.segments), segments: body.segments, params, warnings: [] };
    return { images, text: body.text, params, warnings: [] };
  });
