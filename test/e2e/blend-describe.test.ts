// /blend and /describe end to end on midjourney-proxy: the attachments reach the proxy as base64,
// a blend ends as a grid like /imagine, a describe's numbered prompts each start an /imagine; and a
// provider that cannot blend or describe does not offer the commands at all.
import { ButtonStyle, MessageFlags } from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeResultImage } from "../../emulators/index.ts";
import type { FakeMessage } from "../fake-discord/index.ts";
import {
  buttonRows,
  centreColour,
  customIdOf,
  findButton,
  isFinished,
  quadrantColours,
  startWorld,
  type World,
} from "./world.ts";

let world: World;
let evolink: World;
beforeAll(async () => {
  [world, evolink] = await Promise.all([
    startWorld({ provider: "midjourney-proxy", taskDurationMs: 600 }),
    startWorld({ allowUnregisteredCommands: true }),
  ]);
});
afterAll(async () => {
  await Promise.all([world?.stop(), evolink?.stop()]);
});

async function pngFile(filename: string, index: number) {
  const bytes = await makeResultImage({ width: 16, height: 16, index });
  return { filename, bytes, contentType: "image/png" };
}

const dataUrl = (bytes: Uint8Array) => `data:image/png;base64,${Buffer.from(bytes).toString("base64")}`;

function submitsTo(path: string): Record<string, unknown>[] {
  return (world.proxy?.apiRequests("POST") ?? [])
    .filter((request) => request.path === `/mj/submit/${path}`)
    .map((request) => request.body as Record<string, unknown>);
}

const hasDescriptions = (message: FakeMessage) => message.embeds.some((embed) => embed.description);

describe("/blend on midjourney-proxy", () => {
  it("sends the attachments as base64 with the dimension and ends as a grid with U/V/🔄", async () => {
    const user = world.fake.makeUser("bea");
    const first = await pngFile("first.png", 0);
    const second = await pngFile("second.png", 1);
    const run = await world.fake.runSlashCommand({
      name: "blend",
      options: { dimensions: "portrait" },
      attachments: { image1: first, image2: second },
      user,
    });
    const original = await run.waitForOriginalMessage();
    const link = (name: string) => `<http://127\\.0\\.0\\.1:\\d+/attachments/\\d+/\\d+/${name}>`;
    expect(original.content).toMatch(
      new RegExp(
        `^\\*\\*${link("first\\.png")} ${link("second\\.png")} --ar 2:3\\*\\* - /blend by <@${user.id}> \\(Waiting to start\\)$`,
      ),
    );

    const done = await world.fake.waitForMessage((m) => m.id === original.id && isFinished(m), 20_000);
    expect(submitsTo("blend")).toEqual([
      { base64Array: [dataUrl(first.bytes), dataUrl(second.bytes)], dimensions: "PORTRAIT" },
    ]);
    expect(buttonRows(done)).toEqual([
      ["U1", "U2", "U3", "U4", "🔄"],
      ["V1", "V2", "V3", "V4"],
    ]);
    expect(await quadrantColours(done.attachments[0]?.bytes as Buffer)).toEqual({
      width: 128,
      height: 192,
      tiles: [0, 1, 2, 3],
    });

    const click = await world.fake.clickButton({ message: done, customId: customIdOf(done, "U1"), user });
    const single = await click.waitForFollowUp((m) => isFinished(m), 20_000);
    expect(single.content).toMatch(new RegExp(` --ar 2:3\\*\\* - Image #1 <@${user.id}>$`));
    expect(await centreColour(single.attachments[0]?.bytes as Buffer)).toBe(0);
  });

  it("refuses a file that is not an image privately, sending nothing", async () => {
    const before = submitsTo("blend").length;
    const run = await world.fake.runSlashCommand({
      name: "blend",
      attachments: {
        image1: await pngFile("ok.png", 0),
        image2: { filename: "notes.txt", bytes: Buffer.from("hello"), contentType: "text/plain" },
      },
    });
    const reply = await run.waitForPrivateAnswer();
    expect(reply.ephemeral).toBe(true);
    expect(reply.content).toContain("`notes.txt` is not a PNG, JPEG, WebP or GIF image");
    expect(submitsTo("blend")).toHaveLength(before);
  });
});

describe("/describe on midjourney-proxy", () => {
  it("lists four prompts with buttons; 2 starts an /imagine of prompt 2", async () => {
    const user = world.fake.makeUser("dov");
    const image = await pngFile("photo.png", 2);
    const run = await world.fake.runSlashCommand({ name: "describe", attachments: { image }, user });
    const original = await run.waitForOriginalMessage();
    const done = await world.fake.waitForMessage((m) => m.id === original.id && hasDescriptions(m), 20_000);

    expect(submitsTo("describe").at(-1)).toEqual({ base64: dataUrl(image.bytes) });
    expect(done.content).toMatch(
      new RegExp(`^\\*\\*<http://\\S+/photo\\.png>\\*\\* - /describe by <@${user.id}>$`),
    );
    expect(done.embeds[0]?.description).toBe(
      [
        "1️⃣ a flat colour field --ar 1:1",
        "2️⃣ a solid square --ar 1:1",
        "3️⃣ minimalism --ar 1:1",
        "4️⃣ a test card --ar 1:1",
      ].join("\n\n"),
    );
    expect(buttonRows(done)).toEqual([["1", "2", "3", "4", "🔄"]]);
    // The described image is shown with its prompts.
    expect(await centreColour(done.attachments[0]?.bytes as Buffer)).toBe(2);

    const clicker = world.fake.makeUser("eli");
    const click = await world.fake.clickButton({
      message: done,
      customId: customIdOf(done, "2"),
      user: clicker,
    });
    const imagined = await click.waitForFollowUp((m) => isFinished(m), 20_000);
    expect(imagined.content).toMatch(new RegExp(`^\\*\\*a solid square --ar 1:1\\*\\* - <@${clicker.id}>`));
    expect(buttonRows(imagined)[0]).toEqual(["U1", "U2", "U3", "U4", "🔄"]);
    const sent = submitsTo("imagine").at(-1)?.prompt;
    // The account's speed travels as a flag after the prompt, as for any /imagine.
    expect(String(sent).replace(/ --fast$/, "")).toBe("a solid square --ar 1:1");
    const clicked = world.fake.messageById(done.id) as FakeMessage;
    expect(findButton(clicked, "2").style).toBe(ButtonStyle.Primary);
    expect(findButton(clicked, "1").style).toBe(ButtonStyle.Secondary);
  });
});

describe("on a provider without blend and describe (EvoLink)", () => {
  it("registers neither command", () => {
    const names = evolink.fake.registeredCommands(evolink.fake.guildId).map((command) => command.name);
    expect(names).toContain("imagine");
    expect(names).not.toContain("blend");
    expect(names).not.toContain("describe");
  });

  it("answers an old /blend interaction privately that it is not available", async () => {
    const run = await evolink.fake.runSlashCommand({
      name: "blend",
      attachments: { image1: await pngFile("a.png", 0), image2: await pngFile("b.png", 1) },
    });
    const reply = (await run.waitForCallback()).data as { content: string; flags: number };
    expect(reply.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    expect(reply.content).toBe(
      "**/blend is not available** — the image service this bot uses (evolink) cannot do it, so Atelier no longer offers the command.",
    );
    expect(evolink.emulator.apiRequests("POST")).toHaveLength(0);
  });
});
