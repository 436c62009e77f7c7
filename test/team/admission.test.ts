// Admission rules: each rule on its own, then the whole check against a real store, where limits
// must hold even when requests arrive at once.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { jobRecordSchema } from "../../src/jobs/record.ts";
import { silentLogger } from "../../src/log.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import {
  type AdmissionRequest,
  bannedRefusal,
  buttonRefusal,
  channelRefusal,
  cooldownRefusal,
  dailyRefusal,
} from "../../src/team/admission.ts";
import { findBannedTerm, parseBannedTerm, unsupportedFeature } from "../../src/team/banned-terms.ts";
import { defaultGuildConfig, type GuildConfig } from "../../src/team/guild-config.ts";
import { createTeamServices, type TeamServices } from "../../src/team/team.ts";
import { emptyTotals } from "../../src/team/usage.ts";

const config = (fields: Partial<GuildConfig>): GuildConfig => ({ ...defaultGuildConfig(), ...fields });
const noon = Date.UTC(2025, 4, 17, 12, 0, 0);
const midnightAfter = Date.UTC(2025, 4, 18);

describe("channel rule", () => {
  it("allows every channel until admins list some", () => {
    expect(channelRefusal(config({}), ["c1"])).toBeUndefined();
    expect(channelRefusal(config({ allowedChannelIds: ["c1"] }), ["c1"])).toBeUndefined();
    expect(channelRefusal(config({ allowedChannelIds: ["c1"] }), ["c2"])).toEqual({
      rule: "channel",
      allowedChannelIds: ["c1"],
    });
  });

  it("allows a thread whose parent channel is allowed", () => {
    expect(channelRefusal(config({ allowedChannelIds: ["parent"] }), ["thread", "parent"])).toBeUndefined();
  });
});

describe("button rule", () => {
  it("always lets the owner press their own job's buttons", () => {
    expect(buttonRefusal(config({ buttonPolicy: "owner" }), "ann", "ann", [])).toBeUndefined();
  });

  it("follows the guild's policy for someone else's job", () => {
    expect(buttonRefusal(config({}), "bob", "ann", [])).toBeUndefined();
    expect(buttonRefusal(config({ buttonPolicy: "owner" }), "bob", "ann", [])?.rule).toBe("buttons");
    const roles = config({ buttonPolicy: "roles", buttonRoleIds: ["artists"] });
    expect(buttonRefusal(roles, "bob", "ann", ["artists"])).toBeUndefined();
    expect(buttonRefusal(roles, "bob", "ann", ["guests"])).toEqual({
      rule: "buttons",
      policy: "roles",
      roleIds: ["artists"],
    });
  });

  it("does not apply to new jobs from /imagine (no owner)", () => {
    expect(buttonRefusal(config({ buttonPolicy: "owner" }), "bob", undefined, [])).toBeUndefined();
  });
});

describe("banned words and patterns", () => {
  const banned = config({
    bannedWords: ["gore", "blood bath"],
    bannedPatterns: [{ source: "sk(u|e)ll", flags: "" }],
  });

  it("names the banned word, whatever its case", () => {
    expect(bannedRefusal(banned, "a cat, lots of GORE --ar 16:9")).toEqual({ rule: "banned", term: "gore" });
  });

  it("matches whole words only, so innocent words that contain one pass", () => {
    expect(bannedRefusal(banned, "a gorgeous gorey-ish goreless scene")).toBeUndefined();
    expect(bannedRefusal(config({ bannedWords: ["ass"] }), "a classic bass")).toBeUndefined();
  });

  it("matches phrases across any spacing", () => {
    expect(bannedRefusal(banned, "a blood   bath")).toEqual({ rule: "banned", term: "blood bath" });
  });

  it("names what a pattern matched", () => {
    expect(bannedRefusal(banned, "a Skell on a throne")).toEqual({ rule: "banned", term: "Skell" });
  });

  it("ignores image URLs, which the user did not write", () => {
    expect(bannedRefusal(banned, "https://cdn.example/gore.png a quiet lake")).toBeUndefined();
  });
});

describe("parsing banned terms", () => {
  it("keeps words lowercased and patterns with their flags", () => {
    expect(parseBannedTerm("  Gore ")).toEqual({ ok: true, term: { kind: "word", word: "gore" } });
    expect(parseBannedTerm("/sk(u|e)ll/ii")).toEqual({
      ok: true,
      term: { kind: "pattern", pattern: { source: "sk(u|e)ll", flags: "i" } },
    });
  });

  it("refuses patterns that do not compile, are too long, use odd flags or match everything", () => {
    expect(parseBannedTerm("/a(b/")).toMatchObject({ ok: false, message: /does not compile/ });
    expect(parseBannedTerm(`/${"a".repeat(201)}/`)).toMatchObject({ ok: false, message: /at most 200/ });
    expect(parseBannedTerm("/abc/g")).toMatchObject({ ok: false, message: /flag g/ });
    expect(parseBannedTerm("/x*/")).toMatchObject({ ok: false, message: /ban everything/ });
    expect(parseBannedTerm("")).toMatchObject({ ok: false });
  });

  it("refuses what RE2 cannot match (backreferences, lookaround), naming it", () => {
    expect(parseBannedTerm("/(sk)ull\\1/")).toMatchObject({ ok: false, message: /a backreference \\1/ });
    expect(parseBannedTerm("/(?<x>a)\\k<x>/")).toMatchObject({
      ok: false,
      message: /named backreference \\k<…>/,
    });
    expect(parseBannedTerm("/gore(?!ous)/")).toMatchObject({
      ok: false,
      message: /a negative lookahead \(\?!…\)/,
    });
    expect(parseBannedTerm("/gore(?=s)/")).toMatchObject({ ok: false, message: /a lookahead \(\?=…\)/ });
    expect(parseBannedTerm("/(?<=blood)bath/")).toMatchObject({
      ok: false,
      message: /a lookbehind \(\?<=…\)/,
    });
    expect(parseBannedTerm("/(?<!a)b/")).toMatchObject({ ok: false, message: /negative lookbehind.*RE2/ });
    // Escaped, or inside a class, these are plain characters.
    for (const source of ["\\(\\?=x\\)", "[(?=]x", "\\\\1", "(?<name>x)", "[\\1]"])
      expect(unsupportedFeature(source), source).toBeUndefined();
    // What RE2 spells otherwise is refused with RE2's reason.
    expect(parseBannedTerm("/a{1001}/")).toMatchObject({
      ok: false,
      message: /does not compile: .*\{1001\}/,
    });
  });

  it("accepts repeated repeats, which can no longer stall anything", () => {
    for (const source of ["(a+)+$", "(a|a)+$", "(\\w+\\s?)*x"])
      expect(parseBannedTerm(`/${source}/`), source).toMatchObject({ ok: true });
  });

  it("matches patterns as JavaScript would: any case, Unicode escapes, m and s flags", () => {
    const match = (source: string, flags: string, prompt: string) =>
      findBannedTerm(prompt, [], [{ source, flags }]);
    expect(match("caf\\u00e9", "", "un CAFÉ noir")).toBe("CAFÉ");
    expect(match("\\u{1F480}+", "u", "a 💀💀 skull")).toBe("💀💀");
    expect(match("^gore", "", "a quiet lake\ngore")).toBeUndefined();
    expect(match("^gore", "m", "a quiet lake\ngore")).toBe("gore");
    expect(match("blood.bath", "", "blood\nbath")).toBeUndefined();
    expect(match("blood.bath", "s", "blood\nbath")).toBe("blood\nbath");
    expect(match("\\bsk(u|e)ll\\b", "", "https://cdn.example/skull.png a skell")).toBe("skell");
    // A long hit is quoted back shortened, to fit in a reply.
    expect(match("a+", "", `x ${"a".repeat(3000)}`)).toBe(`${"a".repeat(100)}…`);
  });

  it("answers on adversarial prompts for the shapes that hang a backtracking engine", {
    timeout: 10_000,
  }, () => {
    const shapes: Array<[string, string]> = [
      ["(a+)+$", `${"a".repeat(5000)}!`],
      ["(a|a)+$", `${"a".repeat(5000)}!`],
      ["(a|aa)+$", `${"a".repeat(5000)}!`],
      ["(.*a){20}", "a".repeat(3000)],
      ["(.*a){20}", `${"a".repeat(19)}${"b".repeat(3000)}`],
      ["^(\\w+\\s?)*$", `${"word ".repeat(800)}!`],
    ];
    for (const [source, prompt] of shapes) {
      // Adding it answers too (^(\w+\s?)*$ is refused: it matches an empty prompt).
      expect(parseBannedTerm(`/${source}/`).ok, source).toBe(source !== "^(\\w+\\s?)*$");
      // Only (.*a){20} on the 3000 a's matches: the whole prompt, quoted back shortened.
      const expected = source === "(.*a){20}" && !prompt.includes("b") ? `${"a".repeat(100)}…` : undefined;
      expect(findBannedTerm(prompt, [], [{ source, flags: "" }]), source).toBe(expected);
      expect(bannedRefusal(config({ bannedPatterns: [{ source, flags: "" }] }), prompt), source).toEqual(
        expected === undefined ? undefined : { rule: "banned", term: expected },
      );
    }
  });

  it("skips a stored pattern RE2 cannot run (saved before patterns ran on RE2) instead of backtracking", () => {
    expect(findBannedTerm("gore and more", [], [{ source: "gore(?= and)", flags: "" }])).toBeUndefined();
    expect(
      findBannedTerm(
        "gore and more",
        [],
        [
          { source: "(?<=x)y", flags: "" },
          { source: "mo+re", flags: "" },
        ],
      ),
    ).toBe("more");
  });
});

describe("cooldown and daily limits", () => {
  it("asks to wait until the cooldown since the last start is over", () => {
    const rules = config({ cooldownSeconds: 60 });
    expect(cooldownRefusal(rules, noon - 59_000, noon)).toEqual({
      rule: "cooldown",
      until: noon + 1_000,
      seconds: 60,
    });
    expect(cooldownRefusal(rules, noon - 60_000, noon)).toBeUndefined();
    expect(cooldownRefusal(config({}), noon - 1, noon)).toBeUndefined();
  });

  it("counts every job a request would start, and says when the day resets (UTC)", () => {
    const rules = config({ userDailyJobs: 5 });
    const state = { user: { ...emptyTotals(), started: 3 }, guild: emptyTotals(), lastStartedAt: undefined };
    expect(dailyRefusal(rules, state, 2, noon)).toBeUndefined();
    expect(dailyRefusal(rules, state, 3, noon)).toEqual({
      rule: "userDaily",
      limit: 5,
      used: 3,
      requested: 3,
      resetsAt: midnightAfter,
    });
  });

  it("applies the guild's cap to everyone together", () => {
    const rules = config({ guildDailyJobs: 10 });
    const state = { user: emptyTotals(), guild: { ...emptyTotals(), started: 10 }, lastStartedAt: undefined };
    expect(dailyRefusal(rules, state, 1, noon)?.rule).toBe("guildDaily");
  });
});

describe("Admission against the store", () => {
  let dataDir: string;
  let store: Store;
  let team: TeamServices;
  let now = noon;

  const request = (fields: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
    userId: "ann",
    guildId: "g1",
    channelIds: ["c1"],
    roleIds: [],
    promptText: "a quiet lake",
    jobCount: 1,
    ...fields,
  });

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "atelier-admission-"));
    store = await openStore({ dataDir });
    now = noon;
    team = createTeamServices({ store, logger: silentLogger, now: () => now });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("admits everything in a guild nobody configured", async () => {
    for (let index = 0; index < 5; index += 1)
      expect(await team.admission.admit(request())).toEqual({ ok: true });
  });

  it("refuses the job after the daily cap, and admits again the next UTC day", async () => {
    await team.configs.update("g1", (current) => ({ ...current, userDailyJobs: 2 }));
    expect((await team.admission.admit(request({ jobCount: 2 }))).ok).toBe(true);
    expect(await team.admission.admit(request())).toEqual({
      ok: false,
      refusal: { rule: "userDaily", limit: 2, used: 2, requested: 1, resetsAt: midnightAfter },
    });
    expect((await team.admission.admit(request({ userId: "bob" }))).ok).toBe(true);
    now = midnightAfter + 1;
    expect((await team.admission.admit(request())).ok).toBe(true);
  });

  it("holds the cap when requests arrive at the same time", async () => {
    await team.configs.update("g1", (current) => ({ ...current, guildDailyJobs: 3 }));
    const verdicts = await Promise.all(
      ["a", "b", "c", "d", "e", "f"].map((userId) => team.admission.admit(request({ userId }))),
    );
    expect(verdicts.filter((verdict) => verdict.ok)).toHaveLength(3);
  });

  it("does not count refused requests towards the cap", async () => {
    await team.configs.update("g1", (current) => ({ ...current, userDailyJobs: 1, bannedWords: ["gore"] }));
    expect((await team.admission.admit(request({ promptText: "gore" }))).ok).toBe(false);
    expect((await team.admission.admit(request())).ok).toBe(true);
  });

  it("decides on the server's settings the ask read already, without reading them again", async () => {
    const read = vi.spyOn(team.configs, "get");
    const settings = { ...defaultGuildConfig(), bannedWords: ["gore"] };
    expect(await team.admission.admit(request({ promptText: "gore", guildConfig: settings }))).toMatchObject({
      ok: false,
      refusal: { rule: "banned", term: "gore" },
    });
    expect(read).not.toHaveBeenCalled();
    expect(await team.admission.admit(request({ promptText: "gore" }))).toEqual({ ok: true });
    expect(read).toHaveBeenCalledTimes(1);
  });

  it("enforces the cooldown per user", async () => {
    await team.configs.update("g1", (current) => ({ ...current, cooldownSeconds: 30 }));
    expect((await team.admission.admit(request())).ok).toBe(true);
    now += 10_000;
    expect(await team.admission.admit(request())).toMatchObject({
      ok: false,
      refusal: { rule: "cooldown", until: noon + 30_000 },
    });
    expect((await team.admission.admit(request({ userId: "bob" }))).ok).toBe(true);
    now = noon + 30_000;
    expect((await team.admission.admit(request())).ok).toBe(true);
  });

  it("pauses a repeat offender only when the guild turned the rule on", async () => {
    const refused = (id: string) =>
      jobRecordSchema.parse({
        id,
        kind: "imagine",
        state: "failed",
        delivered: false,
        provider: "evolink",
        prompt: "x",
        warnings: [],
        requesterId: "ann",
        guildId: "g1",
        error: { kind: "refused", advice: "rephrase", message: "no" },
        createdAt: now,
        updatedAt: now,
        finishedAt: now,
      });
    const recordRefusal = async (id: string) => {
      team.usageRecorder.onFinished(refused(id));
      await team.idle();
    };
    await recordRefusal("r1");
    await recordRefusal("r2");
    expect((await team.admission.admit(request())).ok).toBe(true);

    await team.configs.update("g1", (current) => ({
      ...current,
      offenderRefusals: 3,
      offenderBlockMinutes: 15,
    }));
    await recordRefusal("r3");
    expect(await team.admission.admit(request())).toEqual({
      ok: false,
      refusal: { rule: "offender", until: noon + 15 * 60_000 },
    });
    now = noon + 15 * 60_000;
    expect((await team.admission.admit(request())).ok).toBe(true);
  });
});
