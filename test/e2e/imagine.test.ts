// /imagine end to end: the real discord.js client, the fake Discord, the EvoLink emulator.
import { ButtonStyle, InteractionResponseType, Locale } from "discord.js";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buttonRows,
  centreColour,
  customIdOf,
  deafenBotThread,
  findButton,
  holdHandlers,
  isFinished,
  quadrantColours,
  startWorld,
  type World,
} from "./world.ts";

let world: World;
beforeAll(async () => {
  world = await startWorld({ taskDurationMs: 800 });
});
afterAll(async () => {
  await world?.stop();
});

describe("/imagine", () => {
  it("registers its command with the guild", () => {
    const names = world.fake.registeredCommands(world.fake.guildId).map((command) => command.name);
    expect(names).toContain("imagine");
  });

  it("answers at once, shows progress, then the grid with U1–U4 🔄 / V1–V4", async () => {
    const user = world.fake.makeUser("ada");
    const run = await world.fake.runSlashCommand({
      name: "imagine",
      options: { prompt: "a red fox —ar 3:2" },
      user,
    });
    const first = await run.waitForCallback();
    // The gateway's thread answers "thinking…" at once; the job's message then takes its place.
    expect(first.type).toBe(InteractionResponseType.DeferredChannelMessageWithSource);
    const original = await run.waitForOriginalMessage();
    expect(original.content).toBe(
      `**a red fox --ar 3:2** - <@${user.id}> (Waiting to start)\n-# ⚠️ Read “—ar” as “--ar” (phones turn -- into —)`,
    );

    const done = await world.fake.waitForMessage(
      (message) => message.id === original.id && isFinished(message),
      15_000,
    );
    expect(done.content).toBe(
      `**a red fox --ar 3:2** - <@${user.id}> (fast)\n-# ⚠️ Read “—ar” as “--ar” (phones turn -- into —)`,
    );
    expect(buttonRows(done)).toEqual([
      ["U1", "U2", "U3", "U4", "🔄"],
      ["V1", "V2", "V3", "V4"],
    ]);
    const grid = await quadrantColours(done.attachments[0]?.bytes as Buffer);
    expect(grid).toEqual({ width: 192, height: 128, tiles: [0, 1, 2, 3] });
    const progress = world.fake.edits(original.id).map((revision) => revision.content);
    expect(progress.some((content) => /\(\d+%\) \(fast\)/.test(content))).toBe(true);

    const sent = world.emulator.apiRequests("POST").at(-1)?.body as Record<string, unknown>;
    expect(sent).toMatchObject({
      model: "mj-v8.1",
      prompt: "a red fox --ar 3:2",
      quality: "standard",
      model_params: { speed: "fast" },
    });
  });

  it("answers 'thinking…' from the gateway's thread, without the bot's own thread", async () => {
    const deaf = deafenBotThread(world);
    try {
      const run = await world.fake.runSlashCommand({
        name: "imagine",
        options: { prompt: "an unheard owl" },
      });
      expect((await run.waitForCallback()).type).toBe(
        InteractionResponseType.DeferredChannelMessageWithSource,
      );
      expect((await run.waitForOriginalMessage(() => true)).loading).toBe(true);
    } finally {
      deaf.release();
    }
  });

  it("turns an attached image into an image prompt placed first", async () => {
    const reference = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#336699" } })
      .png()
      .toBuffer();
    const run = await world.fake.runSlashCommand({
      name: "imagine",
      options: { prompt: "the same scene at night" },
      attachments: { image: { filename: "reference.png", bytes: reference, contentType: "image/png" } },
    });
    const original = await run.waitForOriginalMessage();
    await world.fake.waitForMessage((message) => message.id === original.id && isFinished(message), 15_000);
    const sent = (world.emulator.apiRequests("POST").at(-1)?.body as { prompt?: string } | undefined)?.prompt;
    expect(sent).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\S+reference\.png\S* the same scene at night$/);
  });

  it("refuses an invalid prompt privately, names the parameter, echoes the prompt, sends nothing", async () => {
    const creates = world.emulator.apiRequests("POST").length;
    const run = await world.fake.runSlashCommand({
      name: "imagine",
      options: { prompt: "a cat --ar banana" },
    });
    const reply = await run.waitForPrivateAnswer();
    expect(reply.ephemeral).toBe(true);
    expect(reply.content).toMatch(/--ar must be W:H/);
    expect(reply.content).toContain("```\na cat --ar banana\n```");
    expect(world.emulator.apiRequests("POST")).toHaveLength(creates);
  });

  it("tells a French user what is wrong with the prompt in French, parameter and values as typed", async () => {
    const creates = world.emulator.apiRequests("POST").length;
    const run = await world.fake.runSlashCommand({
      name: "imagine",
      options: { prompt: "a cat --ar 3" },
      locale: Locale.French,
    });
    const reply = await run.waitForPrivateAnswer();
    expect(reply.ephemeral).toBe(true);
    expect(reply.content).toContain(
      "--ar doit être un rapport L:H en nombres entiers (par ex. 16:9), pas “3”",
    );
    expect(reply.content).toContain("```\na cat --ar 3\n```");
    expect(world.emulator.apiRequests("POST")).toHaveLength(creates);
  });

  it("U2 posts image 2 alone with its follow-ups and highlights U2 on the grid", async () => {
    const run = await world.fake.runSlashCommand({ name: "imagine", options: { prompt: "a blue whale" } });
    const gridMessage = await world.fake.waitForMessage(
      (message) => message.id === run.originalMessage()?.id && isFinished(message),
      15_000,
    );
    const creates = world.emulator.apiRequests("POST").length;
    const clicker = world.fake.makeUser("grace");
    const click = await world.fake.clickButton({
      message: gridMessage,
      customId: customIdOf(gridMessage, "U2"),
      user: clicker,
    });
    const single = await click.waitForFollowUp((message) => isFinished(message));
    expect(single.content).toBe(`**a blue whale** - Image #2 <@${clicker.id}>`);
    expect(await centreColour(single.attachments[0]?.bytes as Buffer)).toBe(1);
    expect(buttonRows(single)).toEqual([["Vary (Subtle)", "Vary (Strong)", "Run as HD"], ["Open full size"]]);
    expect(world.emulator.apiRequests("POST")).toHaveLength(creates);
    const grid = world.fake.messageById(gridMessage.id);
    expect(findButton(grid as never, "U2").style).toBe(ButtonStyle.Primary);
    expect(findButton(grid as never, "U1").style).toBe(ButtonStyle.Secondary);
  });
});

describe('/imagine with a store across the network (answers "thinking…" first)', () => {
  let remote: World;
  beforeAll(async () => {
    remote = await startWorld({ taskDurationMs: 300, thinkFirst: true });
  });
  afterAll(async () => {
    await remote?.stop();
  });

  it("answers before the store does: 'thinking…' at once, the job's message in its place after", async () => {
    const held = holdHandlers(remote.preferences);
    const run = await remote.fake.runSlashCommand({
      name: "imagine",
      options: { prompt: "a patient heron" },
    });
    try {
      expect((await run.waitForCallback()).type).toBe(
        InteractionResponseType.DeferredChannelMessageWithSource,
      );
      expect((await run.waitForOriginalMessage(() => true)).loading).toBe(true);
    } finally {
      held.release();
    }
    const shown = await run.waitForOriginalMessage();
    expect(shown.content).toMatch(/^\*\*a patient heron\*\* - <@\d+> \(/);
    expect(run.followUps()).toHaveLength(0);
  });

  it('replaces the "thinking…" of a refused prompt with a private reply, leaving nothing public', async () => {
    const run = await remote.fake.runSlashCommand({
      name: "imagine",
      options: { prompt: "a cat --ar banana" },
    });
    expect((await run.waitForCallback()).type).toBe(InteractionResponseType.DeferredChannelMessageWithSource);
    const reply = await run.waitForPrivateAnswer();
    expect(reply.content).toMatch(/--ar must be W:H/);
    const thinking = run.originalMessage();
    expect(thinking?.ephemeral).toBe(false);
    expect(remote.fake.messages().map((message) => message.id)).not.toContain(thinking?.id);
  });
});
