// Which attachments /blend and /describe accept, and which commands a provider gets registered.
import { describe, expect, it } from "vitest";
import { attachedImagesProblem, isSupportedImage } from "../../src/discord/attachments.ts";
import { isOffered, type SlashCommand } from "../../src/discord/command-types.ts";
import { evolinkCapabilities } from "../../src/providers/evolink.ts";
import { midjourneyProxyCapabilities } from "../../src/providers/midjourney-proxy.ts";

const png = { name: "a.png", contentType: "image/png" };

describe("attached images", () => {
  it("accepts PNG, JPEG, WebP and GIF by content type, or by extension when Discord sends none", () => {
    expect(isSupportedImage({ name: "x", contentType: "image/jpeg" })).toBe(true);
    expect(isSupportedImage({ name: "x", contentType: "IMAGE/WEBP; q=1" })).toBe(true);
    expect(isSupportedImage({ name: "photo.JPG", contentType: null })).toBe(true);
    expect(isSupportedImage({ name: "scan.tiff", contentType: "image/tiff" })).toBe(false);
    expect(isSupportedImage({ name: "notes.png", contentType: "text/plain" })).toBe(false);
    expect(isSupportedImage({ name: "notes.txt", contentType: null })).toBe(false);
  });

  it("names the count it wants and the first file it cannot use", () => {
    const limits = { min: 2, max: 5 };
    expect(attachedImagesProblem([png, png], "blend", limits)).toBeUndefined();
    expect(attachedImagesProblem([png], "blend", limits)).toBe(
      "**/blend takes 2 to 5 images** — you attached 1.",
    );
    expect(attachedImagesProblem([], "describe", { min: 1, max: 1 })).toBe(
      "**/describe takes 1 image** — you attached 0.",
    );
    expect(
      attachedImagesProblem([png, { name: "a`b.pdf", contentType: "application/pdf" }], "blend", limits),
    ).toBe("**Not an image Atelier can use** — `aˋb.pdf` is not a PNG, JPEG, WebP or GIF image.");
  });
});

describe("commands offered per provider", () => {
  const command = (requires?: SlashCommand["requires"]): SlashCommand => ({
    definition: { name: "x", description: "x" },
    ...(requires ? { requires } : {}),
    run: async () => {},
  });

  it("offers /blend and /describe only where the provider can serve them", () => {
    expect(isOffered(command("blend"), midjourneyProxyCapabilities)).toBe(true);
    expect(isOffered(command("describe"), midjourneyProxyCapabilities)).toBe(true);
    expect(isOffered(command("blend"), evolinkCapabilities)).toBe(false);
    expect(isOffered(command("describe"), evolinkCapabilities)).toBe(false);
    expect(isOffered(command(), evolinkCapabilities)).toBe(true);
  });
});
