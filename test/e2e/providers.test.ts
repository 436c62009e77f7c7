// Several image services at once (PROVIDER=evolink,midjourney-proxy): a prompt can name one with
// --provider, each person picks theirs in /settings, admins narrow the list per server, and
// follow-ups always go back to the service that made the parent.
import { type APIUser, ButtonStyle, PermissionFlagsBits } from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeMessage } from "../fake-discord/index.ts";
import { DEFAULT_PERMISSIONS } from "../fake-discord/payloads.ts";
import { customIdOf, findButton, imagineGrid, isFinished, startWorld, type World } from "./world.ts";

let world: World;
let admin: APIUser;

beforeAll(async () => {
  world = await startWorld({ provider: "both", taskDurationMs: 300 });
  admin = world.fake.makeUser("boss");
  world.fake.setMember(admin, {
    permissions: (BigInt(DEFAULT_PERMISSIONS) | PermissionFlagsBits.ManageGuild).toString(),
  });
});
afterAll(async () => {
  await world.stop();
});

const evolinkCreates = () => world.emulator.apiRequests("POST").length;
const proxySubmits = () =>
  (world.proxy?.apiRequests("POST") ?? []).filter((request) => request.path.startsWith("/mj/submit/")).length;

async function privately(
  user: APIUser,
  name: string,
  options: Record<string, string> = {},
  subcommand?: string,
) {
  const run = await world.fake.runSlashCommand({ name, options, subcommand, user });
  const reply = await run.waitForPrivateAnswer();
  expect(reply.ephemeral).toBe(true);
  return reply;
}

describe("several image services at once", () => {
  it("--provider picks the service for one prompt; without it the default runs", async () => {
    const user = world.fake.makeUser("ada");
    const [evolinkBefore, proxyBefore] = [evolinkCreates(), proxySubmits()];
    await imagineGrid(world, "a red fox --provider midjourney-proxy", user);
    expect([evolinkCreates() - evolinkBefore, proxySubmits() - proxyBefore]).toEqual([0, 1]);
    await imagineGrid(world, "a red fox", user);
    expect([evolinkCreates() - evolinkBefore, proxySubmits() - proxyBefore]).toEqual([1, 1]);
  });

  it("a service that is not configured is refused privately, naming the ones that are", async () => {
    const reply = await privately(world.fake.makeUser("bo"), "imagine", { prompt: "a fox --provider dalle" });
    expect(reply.content).toContain("--provider must be one of: evolink, midjourney-proxy");
  });

  it("/settings switches a person's service; their follow-ups stay on the parent's service", async () => {
    const user = world.fake.makeUser("cy");
    const panel = await privately(user, "settings");
    expect(panel.content).toContain("Image service **evolink**");
    const click = await world.fake.clickButton({
      message: panel,
      customId: customIdOf(panel, "midjourney-proxy"),
      user,
    });
    await click.waitForCallback();
    const redrawn = world.fake.messageById(panel.id) as FakeMessage;
    expect(findButton(redrawn, "midjourney-proxy").style).toBe(ButtonStyle.Success);

    const proxyBefore = proxySubmits();
    const grid = await imagineGrid(world, "a lighthouse", user);
    expect(proxySubmits() - proxyBefore).toBe(1);

    // Back to EvoLink for new jobs: V1 on the proxy's grid still goes to the proxy.
    const back = await world.fake.clickButton({
      message: redrawn,
      customId: customIdOf(redrawn, "evolink"),
      user,
    });
    await back.waitForCallback();
    const evolinkBefore = evolinkCreates();
    const v1 = await world.fake.clickButton({ message: grid, customId: customIdOf(grid, "V1"), user });
    await v1.waitForFollowUp((message) => isFinished(message), 20_000);
    expect(evolinkCreates()).toBe(evolinkBefore);
    expect(proxySubmits() - proxyBefore).toBe(2);
  });

  it("an admin's list narrows what members may name, its first entry becoming the server's default", async () => {
    const set = await world.fake.runSlashCommand({
      name: "atelier",
      subcommand: "providers",
      options: { names: "midjourney-proxy" },
      user: admin,
    });
    expect((await set.waitForOriginalMessage()).content).toContain("`midjourney-proxy`");
    const user = world.fake.makeUser("dee");
    const refused = await privately(user, "imagine", { prompt: "a fox --provider evolink" });
    expect(refused.content).toContain("--provider must be one of: midjourney-proxy");
    const proxyBefore = proxySubmits();
    await imagineGrid(world, "a quiet bay", user);
    expect(proxySubmits() - proxyBefore).toBe(1);
    const cleared = await world.fake.runSlashCommand({
      name: "atelier",
      subcommand: "providers",
      user: admin,
    });
    expect((await cleared.waitForOriginalMessage()).content).toContain("every configured one");
  });
});
