// /imagine with links the image service must not be asked to fetch (SSRF through the provider):
// the real bot answers privately, naming the link and why, and nothing reaches the provider.
// Links on origins the bot trusts (the fake Discord's attachment server) still work.
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { finishedReply, startWorld, type World } from "./world.ts";

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world?.stop();
});

/** Prompts the provider received (create requests). */
function sentPrompts(): string[] {
  return world.emulator
    .apiRequests("POST")
    .map((request) => String((request.body as { prompt?: unknown } | undefined)?.prompt ?? ""));
}

describe("/imagine with a link to a private place", () => {
  it.each([
    [
      "http://127.0.0.1/x.png a cat",
      "Image prompts",
      "`http://127.0.0.1/x.png` points at a loopback address.",
    ],
    [
      "http://2130706433/x.png a cat",
      "Image prompts",
      "`http://2130706433/x.png` points at a loopback address (127.0.0.1).",
    ],
    [
      "<http://[::1]:8080/x.png> a cat",
      "Image prompts",
      "`http://[::1]:8080/x.png` points at a loopback address.",
    ],
    [
      "http://[::ffff:7f00:1]/x.png a cat",
      "Image prompts",
      "`http://[::ffff:7f00:1]/x.png` points at a loopback address.",
    ],
    [
      "http://localhost:3000/x.jpg a cat",
      "Image prompts",
      "`http://localhost:3000/x.jpg` points at a loopback name.",
    ],
    [
      "http://169.254.169.254/latest/meta-data/ a cat",
      "Links in a prompt",
      "`http://169.254.169.254/latest/meta-data/` points at a link-local address.",
    ],
    [
      "a cat --sref http://0x7f.1/s.png",
      "Links in a prompt",
      "`http://0x7f.1/s.png` points at a loopback address (127.0.0.1).",
    ],
    ["file:///etc/passwd a cat", "Links in a prompt", "`file:///etc/passwd` uses the file: scheme."],
    ["a cat gopher://x", "Links in a prompt", "`gopher://x` uses the gopher: scheme."],
  ])("refuses %s privately and sends nothing", async (prompt, what, why) => {
    const created = sentPrompts().length;
    const user = world.fake.makeUser("mallory");
    const run = await world.fake.runSlashCommand({ name: "imagine", options: { prompt }, user });
    const reply = await run.waitForPrivateAnswer();
    expect(reply.ephemeral).toBe(true);
    expect(reply.content).toContain(`**Invalid prompt** — ${what} must be public http(s) links; ${why}`);
    // The prompt is echoed so it can be fixed and sent again.
    expect(reply.content).toContain(`\`\`\`\n${prompt}\n\`\`\``);
    expect(sentPrompts()).toHaveLength(created);
    const publicMessages = world.fake
      .messages()
      .filter((message) => message.content.includes(`<@${user.id}>`));
    expect(publicMessages).toEqual([]);
  });
});

describe("/imagine with links the bot trusts", () => {
  it("runs an attached image, which the fake Discord serves from 127.0.0.1", async () => {
    const bytes = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#663399" } })
      .png()
      .toBuffer();
    const run = await world.fake.runSlashCommand({
      name: "imagine",
      options: { prompt: "the same cat in snow" },
      attachments: { image: { filename: "cat.png", bytes, contentType: "image/png" } },
    });
    await finishedReply(world, run);
    expect(sentPrompts().at(-1)).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/\S+\/cat\.png\S* the same cat in snow$/,
    );
  });

  it("runs a typed link on the trusted origin", async () => {
    const link = `${new URL(world.fake.restBaseUrl).origin}/attachments/1/2/typed.png`;
    const run = await world.fake.runSlashCommand({ name: "imagine", options: { prompt: `${link} a cat` } });
    await finishedReply(world, run);
    expect(sentPrompts().at(-1)).toBe(`${link} a cat`);
  });

  it("still runs public links", async () => {
    const run = await world.fake.runSlashCommand({
      name: "imagine",
      options: { prompt: "https://cdn.example.com/ref.png a cat --sref https://example.com/style.png" },
    });
    await finishedReply(world, run);
    expect(sentPrompts().at(-1)).toContain("https://cdn.example.com/ref.png a cat");
  });
});
