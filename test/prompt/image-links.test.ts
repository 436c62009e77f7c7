// Links a provider must not be asked to fetch: every spelling of a loopback, private, link-local
// or otherwise local host, and every scheme other than http(s), is refused before anything is sent.
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { runCheck } from "../../src/cli/check.ts";
import { checkPrompt, classifyIpAddress, linkProblem, parsePrompt } from "../../src/prompt/index.ts";

function refusal(input: string, trustedImageOrigins?: string[]): string {
  const result = checkPrompt(input, trustedImageOrigins ? { trustedImageOrigins } : {});
  if (result.ok) throw new Error(`expected ${JSON.stringify(input)} to be refused`);
  return result.error.message;
}

describe("image prompts on hosts that are not public", () => {
  it("names the link and why, in the words users read", () => {
    expect(refusal("http://127.0.0.1/x.png a cat")).toBe(
      "Image prompts must be public http(s) links; `http://127.0.0.1/x.png` points at a loopback address.",
    );
  });

  it.each([
    ["http://127.0.0.1/x.png", "a loopback address"],
    ["http://127.9.8.7/x.png", "a loopback address"],
    ["http://localhost/x.png", "a loopback name"],
    ["http://LOCALHOST./x.png", "a loopback name"],
    ["http://images.localhost/x.png", "a loopback name"],
    ["http://[::1]/x.png", "a loopback address"],
    ["http://[0:0:0:0:0:0:0:1]/x.png", "a loopback address ([::1])"],
    ["http://2130706433/x.png", "a loopback address (127.0.0.1)"],
    ["http://0x7f000002/x.png", "a loopback address (127.0.0.2)"],
    ["http://127.1/x.png", "a loopback address (127.0.0.1)"],
    ["http://0177.0.0.1/x.png", "a loopback address (127.0.0.1)"],
    ["http://0x7f.1/x.png", "a loopback address (127.0.0.1)"],
    ["http://017700000001/x.png", "a loopback address (127.0.0.1)"],
    ["http://%31%32%37.0.0.1/x.png", "a loopback address (127.0.0.1)"],
    ["http://１２７.０.０.１/x.png", "a loopback address (127.0.0.1)"],
    ["http://127.0.0.1./x.png", "a loopback address"],
    ["http://user:pass@127.0.0.1:8080/x.png", "a loopback address"],
    ["http://example.com@127.0.0.1/x.png", "a loopback address"],
    ["http://[::ffff:127.0.0.1]/x.png", "a loopback address ([::ffff:7f00:1])"],
    ["http://[::ffff:7f00:1]/x.png", "a loopback address"],
    ["http://[::ffff:169.254.169.254]/x.png", "a link-local address ([::ffff:a9fe:a9fe])"],
    ["http://[64:ff9b::a00:1]/x.png", "a private address"],
    ["http://[::]/x.png", "the unspecified address"],
    ["http://0.0.0.0/x.png", "an unspecified address"],
    ["http://0/x.png", "an unspecified address (0.0.0.0)"],
    ["http://[fe80::1]/x.png", "a link-local address"],
    ["http://[fc00::1]/x.png", "a unique-local address"],
    ["http://[fd12:3456::1]/x.png", "a unique-local address"],
    ["http://10.0.0.1/x.png", "a private address"],
    ["http://172.16.0.1/x.png", "a private address"],
    ["http://172.31.255.255/x.png", "a private address"],
    ["http://192.168.1.20/x.png", "a private address"],
    ["http://100.64.0.1/x.png", "a carrier-grade NAT address"],
    ["http://169.254.169.254/x.png", "a link-local address"],
    ["http://metadata.google.internal/x.png", "a private-network name"],
    ["http://printer.local/x.png", "a local-network (mDNS) name"],
    ["http://nas.home.arpa/x.png", "a home-network name"],
    ["http://metadata/x.png", "a local (single-label) host name"],
  ])("refuses %s (%s)", (link, kind) => {
    expect(refusal(`${link} a cat`)).toBe(
      `Image prompts must be public http(s) links; \`${link}\` points at ${kind}.`,
    );
  });

  it("refuses a second image prompt, angle brackets and https alike", () => {
    expect(refusal("https://a.test/ok.png <https://10.1.2.3/x.png> a cat")).toContain(
      "`https://10.1.2.3/x.png` points at a private address",
    );
  });

  it("refuses a spelling hidden in one permutation, naming that permutation", () => {
    expect(refusal("http://{example.com,127.0.0.1}/x.png a cat")).toBe(
      "Image prompts must be public http(s) links; `http://127.0.0.1/x.png` points at a loopback address. (in permutation 2: “http://127.0.0.1/x.png a cat”)",
    );
  });

  it("refuses links anywhere in the prompt, not only image prompts", () => {
    expect(refusal("a cat --sref http://127.0.0.1/s.png::2")).toBe(
      "Links in a prompt must be public http(s) links; `http://127.0.0.1/s.png::2` points at a loopback address.",
    );
    expect(refusal("a cat --cref https://[::1]/c.png --v 6")).toContain("`https://[::1]/c.png` points at");
    expect(refusal("http://169.254.169.254/latest/meta-data a cat")).toContain("a link-local address");
    expect(refusal('a cat "like http://localhost:3000/a.png"')).toContain("`http://localhost:3000/a.png`");
    expect(refusal("a cat http:\\\\127.0.0.1\\x.png")).toContain("points at a loopback address");
    expect(refusal("a cat http:/127.0.0.1/x.png")).toContain("points at a loopback address");
    expect(refusal("a cat https://example.com/go?to=http://10.0.0.7/")).toContain("`http://10.0.0.7/`");
  });

  it("refuses a link it cannot read rather than guessing where it goes", () => {
    expect(refusal("http://127.0.0.1:99999/x.png a cat")).toContain("is not a valid link");
  });
});

describe("schemes other than http and https", () => {
  it.each([
    ["file:///etc/passwd a cat", "`file:///etc/passwd` uses the file: scheme"],
    ["a cat gopher://x", "`gopher://x` uses the gopher: scheme"],
    ["ftp://example.com/x.png a cat", "`ftp://example.com/x.png` uses the ftp: scheme"],
    ["a cat (dict://127.0.0.1:11211/stats)", "`dict://127.0.0.1:11211/stats)` uses the dict: scheme"],
    ["a cat --sref ws://example.com/a.png", "`ws://example.com/a.png` uses the ws: scheme"],
    [
      "a cat data:image/png;base64,iVBORw0KGgo=",
      "`data:image/png;base64,iVBORw0KGgo=` uses the data: scheme",
    ],
    ['"file:///etc/passwd" a cat', "`file:///etc/passwd` uses the file: scheme"],
  ])("refuses %s", (input, why) => {
    expect(refusal(input)).toBe(`Links in a prompt must be public http(s) links; ${why}.`);
  });
});

describe("what still passes", () => {
  it.each([
    "https://cdn.discordapp.com/attachments/1/2/fox.png?ex=66&is=65&hm=abc& a fox",
    "http://example.com/x.png a cat",
    "https://8.8.8.8/x.png a cat",
    "https://[2606:4700:4700::1111]/x.png a cat",
    "http://172.32.0.1/x.png a cat",
    "http://100.128.0.1/x.png a cat",
    "https://localhost.example.com/x.png a cat",
    "https://127.0.0.1.example.com/x.png a cat",
    "a cat --sref https://example.com/s.png::2 https://example.com::3",
    "a cat (see https://example.com/a.png).",
    "a cat at 3:45, ratio:16, mood:dark, metadata:, C:\\Windows",
    "a cat mailto:me@example.com",
  ])("accepts %s", (input) => {
    expect(checkPrompt(input)).toMatchObject({ ok: true });
  });

  it("accepts links on trusted origins, whatever their address or scheme", () => {
    const trusted = ["http://127.0.0.1:5555/api"];
    const input = "http://127.0.0.1:5555/attachments/1/2/ref.png a cat --sref http://127.0.0.1:5555/s.png";
    const result = checkPrompt(input, { trustedImageOrigins: trusted });
    expect(result).toMatchObject({
      ok: true,
      prompt: { images: ["http://127.0.0.1:5555/attachments/1/2/ref.png"] },
    });
  });

  it("leaves parsePrompt alone: it re-reads prompts that were checked when their job was admitted", () => {
    expect(parsePrompt("http://127.0.0.1:5555/ref.png a cat")).toMatchObject({ ok: true });
    expect(checkPrompt("http://127.0.0.1:5555/ref.png a cat")).toMatchObject({ ok: false });
  });

  it("trusts an origin, not a host: another port or scheme is still refused", () => {
    const trusted = ["http://127.0.0.1:5555"];
    expect(refusal("http://127.0.0.1:5556/x.png a cat", trusted)).toContain("points at a loopback address");
    expect(refusal("https://127.0.0.1:5555/x.png a cat", trusted)).toContain("points at a loopback address");
    expect(refusal("a cat file://127.0.0.1:5555/x.png", trusted)).toContain("uses the file: scheme");
  });
});

describe("linkProblem for attachment links", () => {
  it("insists on https when asked, unless the origin is trusted", () => {
    expect(linkProblem("http://cdn.example.com/a.png", { requireHttps: true })).toBe("is not an https link");
    expect(linkProblem("https://cdn.discordapp.com/a.png", { requireHttps: true })).toBeUndefined();
    expect(
      linkProblem("http://127.0.0.1:9/a.png", { requireHttps: true, trustedOrigins: ["http://127.0.0.1:9"] }),
    ).toBeUndefined();
    expect(linkProblem("https://[::1]/a.png", { requireHttps: true })).toBe("points at a loopback address");
  });
});

describe("classifyIpAddress", () => {
  it("reads only address text, and names what a non-public address is", () => {
    expect(classifyIpAddress("127.0.0.1")).toEqual({ public: false, kind: "a loopback address" });
    expect(classifyIpAddress("fe80::1%eth0")).toEqual({ public: false, kind: "a link-local address" });
    expect(classifyIpAddress("2002:7f00:1::1")).toEqual({ public: false, kind: "a loopback address" });
    expect(classifyIpAddress("93.184.216.34")).toEqual({ public: true });
    for (const notAnAddress of [
      "127.1",
      "0177.0.0.1",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      ":1::",
      "localhost",
      "",
    ]) {
      expect(classifyIpAddress(notAnAddress)).toBeUndefined();
    }
  });
});

describe("atelier check", () => {
  it("refuses the same prompts, with no trusted origins", async () => {
    const io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };
    const code = await runCheck(["http://[::ffff:7f00:1]/x.png", "a", "cat"], io);
    expect(code).toBe(1);
    expect(String(io.stderr.read())).toBe(
      "Image prompts must be public http(s) links; `http://[::ffff:7f00:1]/x.png` points at a loopback address.\n",
    );
  });
});
