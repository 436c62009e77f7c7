// /show job:<id> end to end: the ids people find in /info, the job posted again with the same
// picture and buttons that work, and the refusals (unknown id, unfinished job).
import { MessageFlags } from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InteractionHandle } from "../fake-discord/index.ts";
import {
  buttonRows,
  customIdOf,
  imagineGrid,
  isFinished,
  quadrantColours,
  startWorld,
  type World,
} from "./world.ts";

let world: World;
beforeAll(async () => {
  world = await startWorld({ taskDurationMs: 200 });
});
afterAll(async () => {
  await world?.stop();
});

async function privateReply(run: InteractionHandle): Promise<string> {
  const data = (await run.waitForCallback()).data as { content?: string; flags?: number };
  expect((data.flags ?? 0) & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
  return data.content ?? "";
}

describe("/show", () => {
  it("posts a finished job again from the id /info lists, with the same grid and working buttons", async () => {
    const user = world.fake.makeUser("shower");
    const grid = await imagineGrid(world, "a lighthouse at dusk --ar 1:1", user);
    const info = await privateReply(await world.fake.runSlashCommand({ name: "info", user }));
    const id = /\*\*Latest[^\n]*\n• `([^`]+)` imagine — a lighthouse at dusk/.exec(info)?.[1];
    expect(id, info).toBeDefined();

    const run = await world.fake.runSlashCommand({ name: "show", options: { job: `\`${id}\`` }, user });
    const shown = await run.waitForOriginalMessage((message) => isFinished(message));
    expect(shown.id).not.toBe(grid.id);
    expect(shown.content).toBe(grid.content);
    expect(buttonRows(shown)).toEqual(buttonRows(grid));
    const before = await quadrantColours(grid.attachments[0]?.bytes as Buffer);
    expect(await quadrantColours(shown.attachments[0]?.bytes as Buffer)).toEqual(before);

    const click = await world.fake.clickButton({ message: shown, customId: customIdOf(shown, "U2"), user });
    const upscaled = await click.waitForFollowUp((message) => isFinished(message));
    expect(upscaled.content).toContain("Image #2");
  });

  it("says when there is no such job here, and names /info", async () => {
    const reply = await privateReply(
      await world.fake.runSlashCommand({ name: "show", options: { job: "nosuchjob" } }),
    );
    expect(reply).toBe("**No job `nosuchjob` here.** Job ids of your latest jobs are listed in /info.");
  });

  it("refuses a job that has not finished yet", async () => {
    const user = world.fake.makeUser("impatient");
    const slow = await world.fake.runSlashCommand({
      name: "imagine",
      options: { prompt: "a slow one" },
      user,
    });
    await slow.waitForOriginalMessage();
    const [job] = await world.jobs.recentJobsOf(user.id, 1);
    expect(job).toBeDefined();
    const reply = await privateReply(
      await world.fake.runSlashCommand({ name: "show", options: { job: job?.id ?? "" }, user }),
    );
    expect(reply).toBe(
      `**Job \`${job?.id}\` is not finished yet:** its result will appear on its own message.`,
    );
  });
});
