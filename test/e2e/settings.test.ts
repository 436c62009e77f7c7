// Per-user settings end to end: the /settings panel, /prefer suffix and options, and remix mode,
// checked by what the EvoLink emulator receives.
import { type APIUser, ButtonStyle, ComponentType, InteractionResponseType } from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeMessage, InteractionHandle } from "../fake-discord/index.ts";
import { customIdOf, findButton, imagineGrid, isFinished, startWorld, type World } from "./world.ts";

let world: World;
beforeAll(async () => {
  world = await startWorld({ taskDurationMs: 300 });
});
afterAll(async () => {
  await world?.stop();
});

function createsSent(): Array<Record<string, unknown>> {
  return world.emulator.apiRequests("POST").map((request) => request.body as Record<string, unknown>);
}

function imagine(prompt: string, user: APIUser): Promise<FakeMessage> {
  return imagineGrid(world, prompt, user);
}

/** Runs a command that answers privately and returns that answer. */
async function privately(
  user: APIUser,
  name: string,
  options: Record<string, string> = {},
  subcommand?: string,
  subcommandGroup?: string,
): Promise<FakeMessage> {
  const run = await world.fake.runSlashCommand({ name, options, subcommand, subcommandGroup, user });
  const reply = await run.waitForPrivateAnswer();
  expect(reply.ephemeral).toBe(true);
  return reply;
}

async function openSettings(user: APIUser): Promise<FakeMessage> {
  return privately(user, "settings");
}

/** Clicks a panel button and returns the panel as redrawn in place. */
async function clickPanel(panel: FakeMessage, label: string, user: APIUser): Promise<FakeMessage> {
  const click = await world.fake.clickButton({ message: panel, customId: customIdOf(panel, label), user });
  const callback = await click.waitForCallback();
  expect(callback.type).toBe(InteractionResponseType.UpdateMessage);
  return world.fake.messageById(panel.id) as FakeMessage;
}

describe("/settings", () => {
  it("shows the current values, and Stylize high makes the next prompts send --stylize 250 unless they set one", async () => {
    const user = world.fake.makeUser("mira");
    const panel = await openSettings(user);
    expect(panel.content).toContain(
      "Model **V8.1** · Stylize **med** (--stylize 100) · Raw **off** · Speed **fast**",
    );
    expect(panel.content).toContain("Quality **SD** · Variation **strong** · Remix **off**");
    expect(findButton(panel, "V8.1").disabled).toBe(true);
    expect(findButton(panel, "Stylize med").style).toBe(ButtonStyle.Success);
    expect(findButton(panel, "Fast mode").style).toBe(ButtonStyle.Success);
    expect(customIdOf(panel, "Stylize high")).toBe("st:stylize:high");

    const updated = await clickPanel(panel, "Stylize high", user);
    expect(updated.content).toContain("Stylize **high** (--stylize 250)");
    expect(findButton(updated, "Stylize high").style).toBe(ButtonStyle.Success);
    expect(findButton(updated, "Stylize med").style).toBe(ButtonStyle.Secondary);

    const done = await imagine("a lighthouse at dusk", user);
    expect(done.content).toMatch(/^\*\*a lighthouse at dusk --stylize 250\*\*/);
    expect(createsSent().at(-1)?.prompt).toBe("a lighthouse at dusk --stylize 250");

    await imagine("a lighthouse at dawn --s 20", user);
    expect(createsSent().at(-1)?.prompt).toBe("a lighthouse at dawn --stylize 20");

    // Settings are per user: someone else's prompt is untouched.
    await imagine("a lighthouse at noon", world.fake.makeUser("otto"));
    expect(createsSent().at(-1)?.prompt).toBe("a lighthouse at noon");
  });

  it("Turbo mode makes jobs run at turbo speed unless the prompt picks a speed", async () => {
    const user = world.fake.makeUser("tess");
    const panel = await clickPanel(await openSettings(user), "Turbo mode", user);
    expect(panel.content).toContain("Speed **turbo**");

    const done = await imagine("a racing snail", user);
    expect(done.content).toMatch(/\(turbo\)$/);
    expect(createsSent().at(-1)).toMatchObject({
      prompt: "a racing snail",
      model_params: { speed: "turbo" },
    });

    await imagine("a racing snail --fast", user);
    expect(createsSent().at(-1)).toMatchObject({ model_params: { speed: "fast" } });
  });

  it("Reset settings goes back to the defaults", async () => {
    const user = world.fake.makeUser("rex");
    const panel = await openSettings(user);
    await clickPanel(panel, "RAW Mode", user);
    const reset = await clickPanel(panel, "Reset settings", user);
    expect(reset.content).toContain("Raw **off**");
    expect(findButton(reset, "RAW Mode").style).toBe(ButtonStyle.Secondary);
  });
});

describe("/prefer", () => {
  it("suffix is added to every prompt until cleared", async () => {
    const user = world.fake.makeUser("suki");
    const saved = await privately(user, "prefer", { value: "--ar 2:1" }, "suffix");
    expect(saved.content).toMatch(/Your suffix is now `--ar 2:1`/);
    await imagine("a kite over dunes", user);
    expect(createsSent().at(-1)?.prompt).toBe("a kite over dunes --ar 2:1");

    const cleared = await privately(user, "prefer", {}, "suffix");
    expect(cleared.content).toBe("Your suffix is cleared.");
    await imagine("a kite over hills", user);
    expect(createsSent().at(-1)?.prompt).toBe("a kite over hills");
  });

  it("option set/list/delete: --wide expands in prompts; parameter names are refused", async () => {
    const user = world.fake.makeUser("olga");
    const set = await privately(
      user,
      "prefer",
      { name: "wide", value: "--ar 16:9 --s 300" },
      "set",
      "option",
    );
    expect(set.content).toMatch(/`--wide` now expands to `--ar 16:9 --s 300`/);

    await imagine("a beach --wide", user);
    expect(createsSent().at(-1)?.prompt).toBe("a beach --ar 16:9 --stylize 300");

    const shadow = await privately(user, "prefer", { name: "--ar", value: "--ar 1:1" }, "set", "option");
    expect(shadow.content).toMatch(/^\*\*Not saved\*\* — --ar is a Midjourney parameter/);
    const invalid = await privately(user, "prefer", { name: "tall", value: "--ar 9:16x" }, "set", "option");
    expect(invalid.content).toMatch(
      /^\*\*Not saved\*\* — --tall cannot expand to “--ar 9:16x”: --ar must be W:H/,
    );

    const list = await privately(user, "prefer", {}, "list", "option");
    expect(list.content).toContain("- `--wide` → `--ar 16:9 --s 300`");
    expect(list.content).not.toContain("--tall");

    const deleted = await privately(user, "prefer", { name: "wide" }, "delete", "option");
    expect(deleted.content).toBe("Deleted `--wide`.");
  });

  it("an option that does not fit the prompt is named in the error, and nothing is sent", async () => {
    const user = world.fake.makeUser("nico");
    await privately(user, "prefer", { name: "sketch", value: "--draft" }, "set", "option");
    const before = createsSent().length;
    const reply = await privately(user, "imagine", { prompt: "a cat --hd --sketch" });
    expect(reply.content).toMatch(
      /^\*\*Invalid prompt\*\* — Your option --sketch expands to “--draft”; --hd and --draft/,
    );
    expect(reply.content).toContain("```\na cat --hd --sketch\n```");
    expect(createsSent()).toHaveLength(before);
  });
});

describe("remix mode", () => {
  async function remixUser(name: string): Promise<APIUser> {
    const user = world.fake.makeUser(name);
    const panel = await clickPanel(await openSettings(user), "Remix mode", user);
    expect(panel.content).toContain("Remix **on**");
    return user;
  }

  async function openRemix(grid: FakeMessage, label: string, user: APIUser): Promise<InteractionHandle> {
    const click = await world.fake.clickButton({ message: grid, customId: customIdOf(grid, label), user });
    const callback = await click.waitForCallback();
    expect(callback.type).toBe(InteractionResponseType.Modal);
    return click;
  }

  it("V opens a form with the prompt; the edited prompt runs as the variation", async () => {
    const user = await remixUser("remy");
    const grid = await imagine("a paper crane", user);
    const jobId = customIdOf(grid, "V2").split(":")[1] ?? "";
    const imageUrls = (await world.jobs.get(jobId))?.imageUrls ?? [];
    const before = createsSent().length;

    const click = await openRemix(grid, "V2", user);
    const modal = click.modal;
    expect(modal?.custom_id).toBe(`rm:${jobId}:v:2`);
    const label = modal?.components[0];
    expect(label?.type).toBe(ComponentType.Label);
    const input = label?.type === ComponentType.Label ? label.component : undefined;
    expect(input).toMatchObject({ type: ComponentType.TextInput, value: "a paper crane", max_length: 4000 });
    expect(createsSent()).toHaveLength(before);

    const submit = await world.fake.submitModal({
      customId: modal?.custom_id ?? "",
      fields: { prompt: "a paper crane on blue silk --ar 3:2" },
      openedBy: click,
      user,
    });
    const varied = await submit.waitForFollowUp((message) => isFinished(message), 15_000);
    expect(varied.content).toBe(
      `**a paper crane on blue silk --ar 3:2** - Variations by <@${user.id}> (fast)`,
    );
    const sent = createsSent().at(-1)?.prompt as string;
    expect(sent).toBe(`${imageUrls[1]} a paper crane on blue silk --ar 3:2`);
    const updatedGrid = world.fake.messageById(grid.id) as FakeMessage;
    expect(findButton(updatedGrid, "V2").style).toBe(ButtonStyle.Primary);
  });

  it("🔄 opens the form too; an invalid edit is refused privately, naming the parameter, and nothing is sent", async () => {
    const user = await remixUser("rita");
    const grid = await imagine("a glass harbour", user);
    const click = await openRemix(grid, "🔄", user);
    const before = createsSent().length;
    const submit = await world.fake.submitModal({
      customId: click.modal?.custom_id ?? "",
      fields: { prompt: "a glass harbour --chaos 500" },
      openedBy: click,
      user,
    });
    const callback = await submit.waitForCallback();
    expect(callback.type).toBe(InteractionResponseType.ChannelMessageWithSource);
    const reply = await submit.waitForPrivateAnswer();
    expect(reply.ephemeral).toBe(true);
    expect(reply.content).toMatch(/^\*\*Invalid prompt\*\* — --chaos/);
    expect(reply.content).toContain("a glass harbour --chaos 500");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(createsSent()).toHaveLength(before);
  });

  it("without remix mode V starts the variation at once", async () => {
    const user = world.fake.makeUser("vera");
    const grid = await imagine("a tin robot", user);
    const click = await world.fake.clickButton({ message: grid, customId: customIdOf(grid, "V1"), user });
    const callback = await click.waitForCallback();
    expect(callback.type).toBe(InteractionResponseType.UpdateMessage);
    await click.waitForFollowUp(() => true);
  });
});
