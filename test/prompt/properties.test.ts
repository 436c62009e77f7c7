import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkPrompt, type ParsedPrompt, parsePrompt, renderPrompt } from "../../src/prompt/index.ts";
import { hostileInput, validPrompt } from "./arbitraries.ts";

// Notes are the warnings as data: aside too.
const withoutWarnings = ({ warnings: _, notes: __, ...prompt }: ParsedPrompt) => prompt;

function expectResultShape(result: { ok: boolean; error?: { message: string } }) {
  expect(typeof result.ok).toBe("boolean");
  if (!result.ok) expect(result.error?.message).toMatch(/\S/);
}

describe("prompt language properties", () => {
  it("parsePrompt never throws and always answers with a prompt or an error", () => {
    fc.assert(
      fc.property(hostileInput, (input) => {
        expectResultShape(parsePrompt(input));
      }),
      { numRuns: 500 },
    );
  });

  it("checkPrompt never throws and never returns more jobs than the cap", () => {
    fc.assert(
      fc.property(hostileInput, fc.integer({ min: 1, max: 40 }), (input, maxJobs) => {
        const result = checkPrompt(input, { maxJobs });
        expectResultShape(result);
        if (result.ok) expect(result.expanded.length).toBeLessThanOrEqual(maxJobs);
      }),
      { numRuns: 500 },
    );
  });

  it("renders any valid prompt to text that parses back to the same prompt", () => {
    fc.assert(
      fc.property(validPrompt, (prompt) => {
        const reparsed = parsePrompt(renderPrompt(prompt));
        if (!reparsed.ok) throw new Error(`${renderPrompt(prompt)} → ${reparsed.error.message}`);
        expect(withoutWarnings(reparsed.prompt)).toEqual(withoutWarnings(prompt));
      }),
      { numRuns: 1000 },
    );
  });

  it("re-parsing the rendering of anything that parsed gives the same prompt", () => {
    fc.assert(
      fc.property(hostileInput, (input) => {
        const parsed = parsePrompt(input);
        if (!parsed.ok) return;
        const again = parsePrompt(renderPrompt(parsed.prompt));
        if (!again.ok) throw new Error(`${renderPrompt(parsed.prompt)} → ${again.error.message}`);
        expect(withoutWarnings(again.prompt)).toEqual(withoutWarnings(parsed.prompt));
      }),
      { numRuns: 1000 },
    );
  });

  it("checkPrompt gives one job per --repeat, each without the repeat", () => {
    fc.assert(
      fc.property(validPrompt, fc.integer({ min: 1, max: 10 }), (prompt, repeat) => {
        const result = checkPrompt(renderPrompt({ ...prompt, params: { ...prompt.params, repeat } }));
        if (!result.ok) throw new Error(result.error.message);
        expect(result.expanded).toHaveLength(repeat);
        const { repeat: _, ...params } = prompt.params;
        for (const job of result.expanded) expect(job.params).toEqual(params);
      }),
      { numRuns: 200 },
    );
  });

  it("a group of n options makes n jobs, or an error naming n and the cap", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z]{1,6}$/), { minLength: 1, maxLength: 30 }),
        (options) => {
          const result = checkPrompt(`a {${options.join(", ")}} bird`);
          if (options.length <= 10) {
            if (!result.ok) throw new Error(result.error.message);
            expect(result.expanded.map((job) => job.text)).toEqual(
              options.map((option) => `a ${option} bird`),
            );
          } else {
            expect(result.ok).toBe(false);
            if (!result.ok) expect(result.error.message).toContain(`${options.length} jobs`);
          }
        },
      ),
    );
  });
});
