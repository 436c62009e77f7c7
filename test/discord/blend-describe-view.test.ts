// How /blend and /describe jobs read in Discord: the blend's images as its prompt, the describe's
// numbered suggestions with a button each and 🔄 to describe again.
import { ButtonStyle } from "discord.js";
import { describe, expect, it } from "vitest";
import { decodeButton, encodeButton } from "../../src/discord/custom-id.ts";
import { descriptionsEmbed, jobContent, jobView } from "../../src/discord/views.ts";
import type { JobRecord } from "../../src/jobs/record.ts";
import { midjourneyProxyCapabilities } from "../../src/providers/midjourney-proxy.ts";

const describeJob: JobRecord = {
  id: "abcd1234",
  kind: "describe",
  state: "completed",
  delivered: false,
  provider: "midjourney-proxy",
  prompt: "https://cdn.example/photo.png",
  warnings: [],
  providerWarnings: [],
  requesterId: "42",
  sourceUrls: ["https://cdn.example/photo.png"],
  imageUrls: [],
  descriptions: ["a fox in snow", "a *bold* fox", "a red fox --ar 3:2", "winter"],
  pressed: [],
  createdAt: 0,
  updatedAt: 0,
};

function buttons(job: JobRecord) {
  return jobView(job, midjourneyProxyCapabilities).components.flatMap((row) => row.components);
}

describe("describe views", () => {
  it("names the image and the command while running and when done", () => {
    expect(jobContent({ ...describeJob, state: "running", progress: 40 })).toBe(
      "**<https://cdn.example/photo.png>** - /describe by <@42> (40%)",
    );
    expect(jobContent(describeJob)).toBe("**<https://cdn.example/photo.png>** - /describe by <@42>");
  });

  it("numbers the prompts 1️⃣–4️⃣, markdown escaped, with buttons 1–4 and 🔄", () => {
    const view = jobView(describeJob, midjourneyProxyCapabilities);
    expect(view.embeds).toEqual([
      {
        description: "1️⃣ a fox in snow\n\n2️⃣ a \\*bold\\* fox\n\n3️⃣ a red fox --ar 3:2\n\n4️⃣ winter",
      },
    ]);
    expect(buttons(describeJob).map((button) => ("label" in button ? button.label : undefined))).toEqual([
      "1",
      "2",
      "3",
      "4",
      undefined,
    ]);
    const custom = buttons(describeJob).map((button) => ("custom_id" in button ? button.custom_id : ""));
    expect(custom.map((id) => decodeButton(id))).toEqual([
      { jobId: "abcd1234", action: "imagineDescription", index: 1 },
      { jobId: "abcd1234", action: "imagineDescription", index: 2 },
      { jobId: "abcd1234", action: "imagineDescription", index: 3 },
      { jobId: "abcd1234", action: "imagineDescription", index: 4 },
      { jobId: "abcd1234", action: "reroll" },
    ]);
  });

  it("highlights a used number", () => {
    const styles = buttons({ ...describeJob, pressed: ["d3"] }).map((button) => button.style);
    expect(styles.slice(0, 4)).toEqual([
      ButtonStyle.Secondary,
      ButtonStyle.Secondary,
      ButtonStyle.Primary,
      ButtonStyle.Secondary,
    ]);
  });

  it("keeps four very long prompts inside one embed, and shows at most four", () => {
    const long = "x".repeat(3000);
    const embed = descriptionsEmbed([long, long, long, long]);
    expect(embed.description?.length).toBeLessThanOrEqual(4096);
    const five = { ...describeJob, descriptions: ["a", "b", "c", "d", "e"] };
    expect(jobView(five, midjourneyProxyCapabilities).embeds[0]?.description).not.toContain("e");
    expect(buttons(five)).toHaveLength(5);
  });

  it("uses short button ids", () => {
    expect(encodeButton({ jobId: "k3x9q0a1b2", action: "imagineDescription", index: 2 })).toBe(
      "at:k3x9q0a1b2:d:2",
    );
  });
});

describe("blend views", () => {
  it("shows the images as links, the shape, and the command, then a grid like /imagine", () => {
    const blend: JobRecord = {
      ...describeJob,
      kind: "blend",
      state: "running",
      progress: 60,
      prompt: "https://cdn.example/a.png https://cdn.example/b.png --ar 2:3",
      sourceUrls: ["https://cdn.example/a.png", "https://cdn.example/b.png"],
      dimensions: "portrait",
      descriptions: undefined,
    };
    expect(jobContent(blend)).toBe(
      "**<https://cdn.example/a.png> <https://cdn.example/b.png> --ar 2:3** - /blend by <@42> (60%)",
    );
    const done = { ...blend, state: "completed" as const, gridUrl: "https://cdn.example/grid.png" };
    expect(
      jobView(done, midjourneyProxyCapabilities).components.map((row) =>
        row.components.map((button) => ("label" in button && button.label) || "🔄"),
      ),
    ).toEqual([
      ["U1", "U2", "U3", "U4", "🔄"],
      ["V1", "V2", "V3", "V4"],
    ]);
  });
});
