import { describe, expect, it } from "vitest";
import {
  checkPrompt,
  DEFAULT_MAX_JOBS,
  DEFAULT_MAX_LENGTH,
  DEFAULT_VERSION,
  describeModelsAccepting,
  findParameter,
  findVersion,
  PARAMETERS,
  type ParsedPrompt,
  parsePrompt,
  renderPrompt,
  VERSIONS,
} from "../../src/prompt/index.ts";

function parsed(input: string): ParsedPrompt {
  const result = parsePrompt(input);
  if (!result.ok) throw new Error(`expected ${input} to parse: ${result.error.message}`);
  return result.prompt;
}

function errorOf(input: string, options = {}) {
  const result = checkPrompt(input, options);
  if (result.ok) throw new Error(`expected ${input} to fail`);
  return result.error;
}

describe("renderPrompt", () => {
  it("writes images, text, then parameters under canonical names in a stable order", () => {
    const prompt = parsed("https://a.test/x.png a red fox --no trees, cars --s 250 --aspect 3:2");
    expect(renderPrompt(prompt)).toBe(
      "https://a.test/x.png a red fox --ar 3:2 --stylize 250 --no trees, cars",
    );
  });

  it("writes flags bare, lists space-separated and a bare --p as --p", () => {
    const prompt = parsed("a cat --p --tile --sref 1 2 --raw --v 7");
    expect(renderPrompt(prompt)).toBe("a cat --v 7 --style raw --tile --sref 1 2 --p");
  });

  it("drops the angle brackets of Discord-wrapped links", () => {
    expect(renderPrompt(parsed("<https://a.test/x.png> <https://a.test/y.png>"))).toBe(
      "https://a.test/x.png https://a.test/y.png",
    );
  });

  it("builds the text from segments when a prompt made in code has none", () => {
    const prompt: ParsedPrompt = {
      images: [],
      text: "",
      segments: [{ text: "a", weight: 2 }, { text: "b" }],
      params: {},
      warnings: [],
    };
    expect(renderPrompt(prompt)).toBe("a::2 b::");
  });

  it("keeps multi-prompt text as written", () => {
    expect(renderPrompt(parsed("space::   ship::2 --v 6"))).toBe("space:: ship::2 --v 6");
  });
});

describe("text and images", () => {
  it("keeps quoted text verbatim, spaces and parameter-like words included", () => {
    expect(parsed('a sign  "HELLO   --ar 2:3" --ar 1:1').text).toBe('a sign "HELLO   --ar 2:3"');
  });

  it("reads an unmatched quote as an ordinary character", () => {
    expect(parsed('a 12" record --ar 1:1').params).toEqual({ ar: "1:1" });
  });

  it("only treats URLs at the start as image prompts", () => {
    expect(parsed("a cat https://a.test/x.png").images).toEqual([]);
  });

  it("accepts image URLs with query strings and in angle brackets", () => {
    expect(parsed("<https://a.test/x.webp?w=1> https://a.test/y.jpeg?a=b&c=d").images).toEqual([
      "https://a.test/x.webp?w=1",
      "https://a.test/y.jpeg?a=b&c=d",
    ]);
  });

  it("needs text with a single image but not with two", () => {
    expect(errorOf("https://a.test/x.png").message).toContain("One image needs text with it");
    expect(checkPrompt("https://a.test/x.png https://a.test/y.png").ok).toBe(true);
  });

  it("refuses a prompt over the length limit, naming the length and the limit", () => {
    expect(DEFAULT_MAX_LENGTH).toBe(8192);
    expect(errorOf("a".repeat(8193)).message).toBe("The prompt is 8193 characters long; the limit is 8192");
    expect(errorOf("a cat in a hat", { maxLength: 10 }).message).toContain("the limit is 10");
    expect(parsePrompt("a cat in a hat", { maxLength: 10 }).ok).toBe(false);
  });
});

describe("errors are values", () => {
  it("answers even input that is not a string with an error instead of throwing", () => {
    for (const input of [undefined, null, 42, {}] as unknown as string[]) {
      expect(parsePrompt(input).ok).toBe(false);
      const result = checkPrompt(input);
      expect(!result.ok && result.error.message).toMatch(/^Atelier could not read this prompt/);
    }
  });
});

describe("parameter markers", () => {
  it("reads em and en dashes as -- with a note", () => {
    const prompt = parsed("a fox —ar 16:9 –s 50");
    expect(prompt.params).toEqual({ ar: "16:9", stylize: 50 });
    expect(prompt.warnings).toEqual([
      "Read “—ar” as “--ar” (phones turn -- into —)",
      "Read “–s” as “--s” (editors turn -- into –)",
    ]);
  });

  it("leaves dashes inside words, lone dashes and dashed prose as text", () => {
    for (const text of [
      "spaces—warm",
      "boundaries–a",
      "flat — no gradients",
      "花朵--玫瑰",
      "a —vast sky",
      "10 – 20",
    ]) {
      expect(parsed(`${text} --ar 1:1`).text).toBe(text);
    }
  });

  it("accepts upper-case parameter names with a note", () => {
    const prompt = parsed("a fox --AR 16:9 --V 7");
    expect(prompt.params).toEqual({ ar: "16:9", v: "7" });
    expect(prompt.warnings[0]).toBe("Read “--AR” as “--ar” (parameters are lowercase)");
  });

  it("maps every alias to its canonical name", () => {
    const aliases: [string, string][] = [
      ["--aspect 2:3", "ar"],
      ["--s 5", "stylize"],
      ["--c 5", "chaos"],
      ["--q 1 --v 7", "quality"],
      ["--w 5", "weird"],
      ["--r 2", "repeat"],
      ["--version 7", "v"],
      ["--profile", "p"],
      ["--personalize", "p"],
    ];
    for (const [param, key] of aliases) expect(Object.keys(parsed(`a fox ${param}`).params)).toContain(key);
  });
});

describe("errors name the parameter and what is allowed", () => {
  it.each([
    ["a fox --ar 1.5:1", "--ar must be W:H with whole numbers, e.g. 16:9; no decimals, try 3:2"],
    ["a fox --chaos 300", "--chaos must be a whole number from 0 to 100, not “300”"],
    ["a fox --stylize high", "--stylize must be a whole number from 0 to 1000, not “high”"],
    ["a fox --iw 5", "--iw must be a number from 0 to 3, not “5”"],
    ["a fox --zoom 2", "--zoom only works with the Custom Zoom button after an upscale"],
    ["a fox --stylise 100", "Unrecognized parameter --stylise; did you mean --stylize?"],
    ["a fox --banana", "Unrecognized parameter --banana"],
    ["a fox --v 6 --niji 6", "--v and --niji both pick the model; use one of them"],
    ["a fox --stop 50", "--stop works only with V1–V6.1 and Niji 4–6, not V8.1"],
    [
      "a fox --cref https://a.test/c.png --v 7",
      "--cref works only with V6, V6.1 and Niji 6, not V7; on V7 and later use --oref",
    ],
    ["a fox --exp 5 --v 6.1", "--exp works only with V7, V8.1, not V6.1"],
    ["a fox --q 0.5 --v 7", "--quality on V7 must be 1, 2 or 4, not “0.5”"],
    [
      "a fox --ar 16:9 tall",
      "--ar takes one value (“16:9”), but “tall” follows it; text belongs before the parameters",
    ],
    [
      "a fox --raw please",
      "--raw takes no value, but “please” follows it; text belongs before the parameters",
    ],
  ])("%s", (input, message) => {
    expect(errorOf(input).message).toBe(message);
  });

  it("suggests nothing for names far from every parameter", () => {
    expect(errorOf("a fox --elephant").message).toBe("Unrecognized parameter --elephant");
  });

  it("suggests the full name for a prefix", () => {
    expect(errorOf("a fox --persona").message).toContain("did you mean --personalize?");
  });

  it("shortens very long unknown names in the message", () => {
    expect(errorOf(`a fox --${"x".repeat(500)}`).message.length).toBeLessThan(120);
  });
});

describe("duplicates and legacy flags", () => {
  it("keeps the last of a repeated parameter and says so", () => {
    const prompt = parsed("a fox --ar 1:1 --aspect 2:3");
    expect(prompt.params.ar).toBe("2:3");
    expect(prompt.warnings).toContain("--ar was given twice; using the last one (--ar 2:3)");
  });

  it("ignores legacy flags with a warning", () => {
    for (const flag of ["upbeta", "beta", "testp", "creative", "uplight", "video", "sameseed"]) {
      const prompt = parsed(`a fox --${flag} --ar 1:1`);
      expect(prompt.params).toEqual({ ar: "1:1" });
      expect(prompt.warnings).toEqual([`--${flag} is an old parameter Midjourney no longer uses; ignored`]);
    }
  });
});

describe("multi-prompts", () => {
  it("splits text into weighted segments, the weight belonging to the part before it", () => {
    expect(parsed("space::2 ship::-.5 planet --v 6").segments).toEqual([
      { text: "space", weight: 2 },
      { text: "ship", weight: -0.5 },
      { text: "planet" },
    ]);
  });

  it("has no segments without ::", () => {
    expect(parsed("a plain prompt").segments).toBeUndefined();
  });

  it("refuses weights that add up to zero or less", () => {
    expect(errorOf("a::-1").parameter).toBe("::");
    expect(checkPrompt("a::2 b::-1").ok).toBe(true);
  });

  it("warns that V7 and V8.1 ignore weights, but not on V6", () => {
    expect(parsed("a:: b::2").warnings).toContain(
      "V8.1 ignores :: multi-prompt weights; the text is sent as written",
    );
    expect(parsed("a:: b::2 --v 7").warnings[0]).toContain("V7 ignores");
    expect(parsed("a:: b::2 --v 6").warnings).toEqual([]);
  });

  it("does not split inside quotes", () => {
    expect(parsed('"A::B" sign').segments).toBeUndefined();
  });
});

describe("checkPrompt: permutations, repeat and the job cap", () => {
  it("expands nested groups in order, first group slowest", () => {
    const result = checkPrompt("{a, b} {c, {d, e}}");
    expect(result.ok && result.expanded.map((job) => job.text)).toEqual([
      "a c",
      "a d",
      "a e",
      "b c",
      "b d",
      "b e",
    ]);
  });

  it("expands inside parameters", () => {
    const result = checkPrompt("a fox --ar {1:1, 16:9}");
    expect(result.ok && result.expanded.map((job) => job.params.ar)).toEqual(["1:1", "16:9"]);
  });

  it("reads \\, as a comma inside an option", () => {
    const result = checkPrompt("a {red\\, white, blue} flag");
    expect(result.ok && result.expanded.map((job) => job.text)).toEqual(["a red, white flag", "a blue flag"]);
  });

  it("gives --repeat n jobs without the repeat parameter, prompt being the first job", () => {
    const result = checkPrompt("a fox --r 3 --ar 2:3");
    if (!result.ok) throw new Error(result.error.message);
    expect(result.expanded).toHaveLength(3);
    expect(result.prompt).toEqual(result.expanded[0]);
    expect(result.prompt.params).toEqual({ ar: "2:3" });
    expect(result.expanded[1]).not.toBe(result.expanded[0]);
  });

  it("caps the jobs at maxJobs, default 10, naming the count and the cap", () => {
    expect(DEFAULT_MAX_JOBS).toBe(10);
    expect(errorOf("{a,b,c} {d,e,f,g}").message).toBe(
      "This prompt makes 12 jobs from its {…} permutations; the cap is 10",
    );
    expect(errorOf("{a,b} fox", { maxJobs: 1 }).message).toContain("the cap is 1");
    expect(errorOf("{a,b} fox --r 3", { maxJobs: 4 }).message).toBe(
      "This prompt makes 6 jobs (2 permutations with --repeat); the cap is 4",
    );
    expect(checkPrompt("{a,b,c,d} fox --r 10", { maxJobs: 40 }).ok).toBe(true);
  });

  it("treats a missing or broken cap as 10 and clamps the rest to 1–1000", () => {
    expect(errorOf("{a,b,c,d,e,f,g,h,i,j,k} fox", { maxJobs: Number.NaN }).message).toContain(
      "the cap is 10",
    );
    expect(errorOf("{a,b} fox", { maxJobs: 0 }).message).toContain("the cap is 1");
    expect(errorOf("{a,b} ".repeat(11), { maxJobs: Number.POSITIVE_INFINITY }).message).toContain(
      "the cap is 1000",
    );
  });

  it("refuses a huge number of permutations at once, without expanding them", () => {
    expect(errorOf("{a,b} ".repeat(200)).message).toContain("jobs from its {…} permutations; the cap is 10");
  });

  it("reads unmatched braces as text, while parsePrompt leaves all braces alone", () => {
    const result = checkPrompt("a {fox and a } bird }");
    expect(result.ok && result.prompt.text).toBe("a fox and a bird }");
    expect(parsed("a {red, blue} fox").text).toBe("a {red, blue} fox");
  });

  it("refuses permutations nested more than 64 deep", () => {
    expect(errorOf(`${"{".repeat(65)}a${"}".repeat(65)}`).message).toBe(
      "Permutations nest more than 64 levels deep",
    );
  });
});

describe("the parameter and version tables", () => {
  it("finds parameters by canonical name and alias", () => {
    expect(findParameter("aspect")?.key).toBe("ar");
    expect(findParameter("zoom")).toBeUndefined();
  });

  it("lists only known parameters for every version, and the default version exists", () => {
    const keys = new Set(PARAMETERS.map((definition) => definition.key));
    for (const model of VERSIONS) for (const key of model.accepts) expect(keys.has(key)).toBe(true);
    expect(findVersion("v", DEFAULT_VERSION)?.version).toBe("8.1");
  });

  it("describes which versions accept a parameter", () => {
    expect(describeModelsAccepting("stop")).toBe("V1–V6.1 and Niji 4–6");
    expect(describeModelsAccepting("hd")).toBe("V8.1");
    expect(describeModelsAccepting("draft")).toBe("V7, V8.1");
  });
});
