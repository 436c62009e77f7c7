// /blend and /describe hand attachment links to the image service, which fetches them: only public
// https links (Discord's CDN) or links on an origin the bot trusts get that far.
import { describe, expect, it } from "vitest";
import { attachedLinksProblem } from "../../src/discord/attachments.ts";

const cdn = { name: "a.png", url: "https://cdn.discordapp.com/attachments/1/2/a.png?ex=1&hm=2" };

describe("attached image links", () => {
  it("accepts Discord's CDN", () => {
    expect(attachedLinksProblem([cdn, cdn], [])).toBeUndefined();
  });

  it("refuses plain http, private hosts and other schemes, naming the file and why", () => {
    expect(attachedLinksProblem([cdn, { name: "b.png", url: "http://cdn.example.com/b.png" }], [])).toBe(
      "**Image link refused** — attached images must come from public https links; `b.png` is not an https link.",
    );
    expect(attachedLinksProblem([{ name: "c`.png", url: "https://169.254.169.254/c.png" }], [])).toBe(
      "**Image link refused** — attached images must come from public https links; `cˋ.png` points at a link-local address.",
    );
    expect(attachedLinksProblem([{ name: "d.png", url: "https://0x7f.1/d.png" }], [])).toContain(
      "points at a loopback address (127.0.0.1)",
    );
    expect(attachedLinksProblem([{ name: "e.png", url: "file:///etc/passwd" }], [])).toContain(
      "uses the file: scheme",
    );
  });

  it("accepts a trusted origin over http on 127.0.0.1 (the fake Discord), and only that origin", () => {
    const local = { name: "f.png", url: "http://127.0.0.1:4000/attachments/1/2/f.png" };
    expect(attachedLinksProblem([local], ["http://127.0.0.1:4000/api"])).toBeUndefined();
    expect(attachedLinksProblem([local], ["http://127.0.0.1:4001/api"])).toContain("is not an https link");
  });
});
