// Team settings end to end: an admin configures the server with /atelier, members meet the rules
// as private explanations (nothing reaches the image service), and /info shows what was used.
import { type APIUser, InteractionResponseType, PermissionFlagsBits } from "discord.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { defaultGuildConfig } from "../../src/team/guild-config.ts";
import { nextUtcMidnight } from "../../src/team/usage.ts";
import type { FakeMessage, InteractionHandle } from "../fake-discord/index.ts";
import { DEFAULT_PERMISSIONS } from "../fake-discord/payloads.ts";
import { customIdOf, finishedReply, isFinished, startWorld, type World } from "./world.ts";

let world: World;
let admin: APIUser;

beforeAll(async () => {
  world = await startWorld({ taskDurationMs: 200 });
  admin = world.fake.makeUser("boss");
  world.fake.setMember(admin, {
    permissions: (BigInt(DEFAULT_PERMISSIONS) | PermissionFlagsBits.ManageGuild).toString(),
  });
});
afterAll(async () => {
  await world?.stop();
});
beforeEach(async () => {
  // Every test starts from a server nobody configured.
  await world.team.configs.update(world.fake.guildId, () => defaultGuildConfig());
});

interface Reply {
  content: string;
  ephemeral: boolean;
}

/** The private answer (/imagine answers "thinking…" first and replaces it with a private follow-up). */
async function replyOf(run: InteractionHandle): Promise<Reply> {
  const message = await run.waitForPrivateAnswer();
  return { content: message.content, ephemeral: message.ephemeral };
}

async function atelier(
  path: string,
  options: Record<string, string | number> = {},
  user: APIUser = admin,
): Promise<string> {
  const [first, second] = path.split(" ");
  const run = await world.fake.runSlashCommand({
    name: "atelier",
    subcommandGroup: second === undefined ? undefined : first,
    subcommand: second ?? first,
    options,
    user,
  });
  const reply = await replyOf(run);
  expect(reply.ephemeral).toBe(true);
  return reply.content;
}

async function imagine(prompt: string, user: APIUser): Promise<InteractionHandle> {
  return world.fake.runSlashCommand({ name: "imagine", options: { prompt }, user });
}

function finishedGrid(run: InteractionHandle): Promise<FakeMessage> {
  return finishedReply(world, run);
}

async function info(user: APIUser): Promise<string> {
  await world.team.idle();
  const reply = await replyOf(await world.fake.runSlashCommand({ name: "info", user }));
  expect(reply.ephemeral).toBe(true);
  return reply.content;
}

const createsSent = () => world.emulator.apiRequests("POST").length;

describe("/atelier (admins)", () => {
  it("is registered for Manage Server only, and refuses others in the handler too", async () => {
    const registered = world.fake.registeredCommands(world.fake.guildId).find((c) => c.name === "atelier");
    expect(registered?.default_member_permissions).toBe(PermissionFlagsBits.ManageGuild.toString());
    const member = world.fake.makeUser("member");
    expect(await atelier("limits", { "user-daily": 1 }, member)).toMatch(/Manage Server/);
    expect(await atelier("show")).toMatch(/\*\*Limits:\*\* none/);
  });

  it("shows every setting", async () => {
    await atelier("limits", { "user-daily": 5, cooldown: 30 });
    await atelier("ban add", { term: "gore" });
    const shown = await atelier("show");
    expect(shown).toContain("**Channels:** every channel");
    expect(shown).toContain("5 jobs per member per day · 30 s between a member's jobs");
    expect(shown).toContain("**Banned:** 1 words, 0 patterns");
    expect(shown).toContain("**Offenders:** off");
  });
});

describe("admission", () => {
  it("refuses /imagine outside the allowed channels, privately", async () => {
    const elsewhere = "123456789012345678";
    expect(await atelier("channels add", { channel: elsewhere })).toContain(`<#${elsewhere}>`);
    const before = createsSent();
    const reply = await replyOf(await imagine("a lighthouse", world.fake.makeUser("ann")));
    expect(reply.ephemeral).toBe(true);
    expect(reply.content).toBe(`**Not in this channel** — admins allow Atelier only in <#${elsewhere}>.`);
    expect(createsSent()).toBe(before);

    await atelier("channels add", { channel: world.fake.channelId });
    expect(await atelier("channels list")).toContain(`<#${world.fake.channelId}>`);
    await finishedGrid(await imagine("a lighthouse", world.fake.makeUser("ann")));
  });

  it("refuses a banned word before anything reaches the image service, naming the word", async () => {
    expect(await atelier("ban add", { term: "Gore" })).toMatch(/Banned `gore`/);
    expect(await atelier("ban add", { term: "/sk(u|e)lls?/" })).toMatch(/Banned `\/sk\(u\|e\)lls\?\/`/);
    const before = createsSent();
    const user = world.fake.makeUser("bea");
    const reply = await replyOf(await imagine("a castle full of gore --ar 16:9", user));
    expect(reply).toEqual({
      ephemeral: true,
      content: "**Banned prompt** — the word `gore` is not allowed here. Change the prompt and try again.",
    });
    expect((await replyOf(await imagine("a pile of SKULLS", user))).content).toMatch(/the word `SKULLS`/);
    expect(createsSent()).toBe(before);
    expect(await atelier("ban list")).toBe("**Banned (2)**\n• `gore`\n• `/sk(u|e)lls?/`");
  });

  it("validates banned patterns", async () => {
    expect(await atelier("ban add", { term: "/a(b/" })).toMatch(/does not compile/);
    expect(await atelier("ban add", { term: "/gore(?!ous)/" })).toBe(
      "Not changed: That pattern uses a negative lookahead (?!…), which banned patterns cannot: they are matched by RE2, which never stalls on a prompt but has no backreferences (\\1, \\k<name>) and no lookaround ((?=…), (?!…), (?<=…), (?<!…)). Rewrite it without.",
    );
    expect(await atelier("ban add", { term: "/x*/" })).toMatch(/would ban everything/);
    expect(await atelier("ban list")).toBe("No words or patterns are banned.");
  });

  it("answers at once on a prompt that would stall a backtracking engine", async () => {
    expect(await atelier("ban add", { term: "/(a|a)+$/" })).toMatch(/Banned `\/\(a\|a\)\+\$\/`/);
    const before = createsSent();
    const user = world.fake.makeUser("dee");
    const reply = await replyOf(await imagine(`a castle ${"a".repeat(3000)}`, user));
    expect(reply.content).toMatch(/^\*\*Banned prompt\*\* — the word `a{100}…` is not allowed here/);
    expect(createsSent()).toBe(before);
    await finishedGrid(await imagine(`a castle ${"a".repeat(3000)}!`, user));
  });

  it("refuses the job after the daily cap and says when it resets", async () => {
    await atelier("limits", { "user-daily": 2 });
    const user = world.fake.makeUser("cat");
    await finishedGrid(await imagine("a red kite", user));
    await finishedGrid(await imagine("a blue kite", user));
    const before = createsSent();
    const reply = await replyOf(await imagine("a green kite", user));
    const resetsAt = Math.floor(nextUtcMidnight(Date.now()) / 1000);
    expect(reply.ephemeral).toBe(true);
    expect(reply.content).toContain(
      "**Daily limit reached** — you can start 2 jobs a day here and have started 2 today",
    );
    expect(reply.content).toContain(`resets <t:${resetsAt}:R>`);
    expect(createsSent()).toBe(before);
    // Permutations count as the jobs they start.
    await atelier("limits", { "user-daily": 3 });
    const permutations = await replyOf(await imagine("a {red, blue} kite", user));
    expect(permutations.content).toContain("(this would add 2)");
    expect(await info(user)).toContain("**Left today:** 1 of 3 jobs");
  });

  it("applies the cooldown between one member's jobs", async () => {
    await atelier("limits", { cooldown: 600 });
    const user = world.fake.makeUser("dan");
    await finishedGrid(await imagine("a snail", user));
    const reply = await replyOf(await imagine("another snail", user));
    expect(reply.ephemeral).toBe(true);
    expect(reply.content).toMatch(
      /^\*\*Cooldown\*\* — one job every 600 s per person here\. Try again <t:\d+:R>\.$/,
    );
    await finishedGrid(await imagine("someone else's snail", world.fake.makeUser("eve")));
  });

  it("with `buttons owner`, only the owner can use a job's buttons", async () => {
    expect(await atelier("buttons owner")).toContain("only the job's owner");
    const owner = world.fake.makeUser("fay");
    const grid = await finishedGrid(await imagine("a paper crane", owner));
    const other = world.fake.makeUser("gus");
    const refused = await replyOf(
      await world.fake.clickButton({ message: grid, customId: customIdOf(grid, "U1"), user: other }),
    );
    expect(refused.ephemeral).toBe(true);
    expect(refused.content).toMatch(/^\*\*Not your job\*\* — here only the person who started a job/);

    // In remix mode the refusal comes at the click, not after typing into the form.
    await world.preferences.update(other.id, (current) => ({ ...current, remix: true }));
    const remixClick = await world.fake.clickButton({
      message: grid,
      customId: customIdOf(grid, "V1"),
      user: other,
    });
    expect((await remixClick.waitForCallback()).type).toBe(InteractionResponseType.ChannelMessageWithSource);
    expect((await replyOf(remixClick)).content).toMatch(/^\*\*Not your job\*\*/);

    const click = await world.fake.clickButton({
      message: grid,
      customId: customIdOf(grid, "U1"),
      user: owner,
    });
    const upscaled = await click.waitForFollowUp((message) => isFinished(message), 15_000);
    expect(upscaled.content).toContain("Image #1");
  });

  it("with `buttons roles`, members with the role may use others' buttons", async () => {
    const artists = world.fake.createRole("artists");
    expect(await atelier("buttons roles", { role: artists })).toContain(`<@&${artists}>`);
    const grid = await finishedGrid(await imagine("a clay pot", world.fake.makeUser("hal")));
    const outsider = world.fake.makeUser("ida");
    const refused = await replyOf(
      await world.fake.clickButton({ message: grid, customId: customIdOf(grid, "🔄"), user: outsider }),
    );
    expect(refused.content).toContain(`only members with <@&${artists}>`);
    const artist = world.fake.makeUser("jo");
    world.fake.setMember(artist, { roles: [artists] });
    const click = await world.fake.clickButton({
      message: grid,
      customId: customIdOf(grid, "🔄"),
      user: artist,
    });
    await click.waitForFollowUp((message) => isFinished(message), 15_000);
  });
});

describe("/info and moderation", () => {
  it("shows a member their usage; only admins see the server's totals", async () => {
    const user = world.fake.makeUser("kim");
    await finishedGrid(await imagine("a fox", user));
    await finishedGrid(await imagine("a wolf", user));
    const own = await info(user);
    expect(own).toContain("**In progress:** nothing");
    // The emulator reports 1.8 credits per fast job.
    expect(own).toContain("**Today (UTC):** 2 started · 2 completed · 3.6 credits");
    expect(own).toContain("**This month:** 2 started · 2 completed · 3.6 credits");
    expect(own).not.toContain("Server (admins only)");

    const forAdmin = await info(admin);
    expect(forAdmin).toContain("**Server (admins only)**");
    expect(forAdmin).toMatch(/\*\*Top this month:\*\*\n1\. <@\d+> — \d+ jobs/);
    expect(forAdmin).toContain(`<@${user.id}> — 2 jobs, 3.6 credits`);
  });

  it("counts provider refusals and pauses a repeat offender when enabled", async () => {
    expect(await atelier("offenders", { refusals: 2, minutes: 30 })).toContain(
      "2 refused prompts within 24 h pause a member for 30 min",
    );
    world.emulator.knobs.refusePrompts = /forbidden/;
    const user = world.fake.makeUser("lou");
    try {
      for (const prompt of ["a forbidden thing", "another forbidden thing"]) {
        const original = await (await imagine(prompt, user)).waitForOriginalMessage();
        await world.fake.waitForMessage((m) => m.id === original.id && m.embeds.length > 0, 15_000);
      }
    } finally {
      world.emulator.knobs.refusePrompts = undefined;
    }
    expect(await info(user)).toContain("2 failed (2 refused)");
    const before = createsSent();
    const reply = await replyOf(await imagine("a calm sea", user));
    expect(reply.ephemeral).toBe(true);
    expect(reply.content).toMatch(/^\*\*Paused for moderation\*\* — .* again <t:\d+:R>/);
    expect(createsSent()).toBe(before);
    expect(await info(user)).toContain("**Paused for moderation** until");
  });
});
