import { once } from "node:events";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type DownloadPolicy,
  downloadImage,
  ImageDownloadError,
  type ImageDownloadFailure,
  pinnedLookup,
} from "../../src/images/download.ts";
import { solidTile } from "./tiles.ts";

const secret = "token=SECRET-SIGNATURE";
let png: Buffer;
let server: Server;
let origin: string;
let port: number;
let connections = 0;
const requestedPaths: string[] = [];

// Routes of the local image host. Content-Type is deliberately wrong where it does not matter.
const routes: Record<string, (response: ServerResponse) => void> = {
  "/ok.png": (response) => response.writeHead(200, { "content-type": "text/plain" }).end(png),
  "/page.html": (response) => response.writeHead(200, { "content-type": "image/png" }).end("<html>hi</html>"),
  "/fake.png": (response) =>
    response.end(
      Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64)]),
    ),
  "/missing.png": (response) => response.writeHead(404).end("not found"),
  // Announces a huge body, then sends nothing: only an early Content-Length check avoids the timeout.
  "/declared-huge.png": (response) => {
    response.writeHead(200, { "content-length": String(50 * 1024 * 1024) });
    response.write(png.subarray(0, 8));
  },
  // No length, endless chunks: only counting the streamed bytes stops it.
  "/endless.png": (response) => {
    response.writeHead(200, { "content-type": "image/png" });
    const chunk = Buffer.alloc(16 * 1024, 1);
    const timer = setInterval(() => response.write(chunk), 1);
    response.on("close", () => clearInterval(timer));
  },
  "/stall": () => {},
  "/stall-body.png": (response) => {
    response.writeHead(200, { "content-length": String(png.length) });
    response.write(png.subarray(0, 10));
  },
  "/redirect-ok": (response) => response.writeHead(302, { location: `/ok.png?${secret}` }).end(),
  "/redirect-loop": (response) => response.writeHead(302, { location: `/redirect-loop?${secret}` }).end(),
  "/redirect-localhost": (response) =>
    response.writeHead(301, { location: `https://localhost:${port}/ok.png?${secret}` }).end(),
  "/redirect-metadata": (response) =>
    response.writeHead(307, { location: `http://169.254.169.254/latest/meta-data?${secret}` }).end(),
};

beforeAll(async () => {
  png = await solidTile(40, 30, [1, 2, 3]);
  server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    requestedPaths.push(path);
    (routes[path] ?? ((r: ServerResponse) => r.writeHead(404).end()))(response);
  });
  server.on("connection", () => {
    connections++;
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

function policy(overrides: Partial<DownloadPolicy> = {}): DownloadPolicy {
  // A base URL with a path, as configured: only its origin counts.
  return { allowedHttpOrigins: [`${origin}/mj`], maxBytes: 64 * 1024, timeoutMs: 5_000, ...overrides };
}

/** The typed failure, after checking that its message leaks no query string. */
async function failure(promise: Promise<unknown>): Promise<ImageDownloadError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ImageDownloadError);
  const typed = error as ImageDownloadError;
  expect(typed.message).not.toContain("SECRET");
  expect(typed.message).not.toContain("?");
  expect(typed.url).not.toContain("SECRET");
  return typed;
}

async function expectFailure(
  url: string,
  reason: ImageDownloadFailure,
  overrides: Partial<DownloadPolicy> = {},
) {
  const error = await failure(downloadImage(url, policy(overrides)));
  expect(error.reason).toBe(reason);
  return error;
}

describe("downloadImage from a configured provider origin", () => {
  it("allows plain http on loopback and sniffs the real format", async () => {
    const image = await downloadImage(`${origin}/ok.png?${secret}`, policy());
    expect(image).toMatchObject({ format: "png", width: 40, height: 30 });
    expect(image.bytes.equals(png)).toBe(true);
  });

  it("follows a redirect within the allowed origin", async () => {
    const image = await downloadImage(`${origin}/redirect-ok?${secret}`, policy());
    expect(image.format).toBe("png");
  });

  it("refuses non-images whatever the Content-Type says", async () => {
    await expectFailure(`${origin}/page.html?${secret}`, "not-an-image");
    await expectFailure(`${origin}/fake.png?${secret}`, "not-an-image");
  });

  it("reports HTTP errors with their status", async () => {
    const error = await expectFailure(`${origin}/missing.png?${secret}`, "http-status");
    expect(error.status).toBe(404);
    expect(error.message).toContain("/missing.png");
  });

  it("rejects a too-large Content-Length before reading the body", async () => {
    // The server never finishes this body, so anything but an early check would end in a timeout.
    await expectFailure(`${origin}/declared-huge.png?${secret}`, "too-large");
  });

  it("stops a chunked body without length once it passes maxBytes", async () => {
    await expectFailure(`${origin}/endless.png?${secret}`, "too-large");
  });

  it("times out on a server that never answers", async () => {
    await expectFailure(`${origin}/stall?${secret}`, "timeout", { timeoutMs: 200 });
  });

  it("times out on a body that stalls half-way", async () => {
    await expectFailure(`${origin}/stall-body.png?${secret}`, "timeout", { timeoutMs: 200 });
  });

  it("gives up after three redirects", async () => {
    const before = requestedPaths.filter((path) => path === "/redirect-loop").length;
    await expectFailure(`${origin}/redirect-loop?${secret}`, "http-status");
    expect(requestedPaths.filter((path) => path === "/redirect-loop").length - before).toBe(4);
  });

  it("re-checks every redirect hop", async () => {
    await expectFailure(`${origin}/redirect-localhost?${secret}`, "blocked-address");
    await expectFailure(`${origin}/redirect-metadata?${secret}`, "blocked-address");
  });

  it("passes the caller's cancellation through unchanged", async () => {
    const controller = new AbortController();
    const reason = new Error("job cancelled");
    const pending = downloadImage(`${origin}/stall?${secret}`, policy(), controller.signal);
    setTimeout(() => controller.abort(reason), 20);
    await expect(pending).rejects.toBe(reason);
  });
});

describe("downloadImage from anywhere else", () => {
  it("refuses plain http when the origin is not configured", async () => {
    await expectFailure(`${origin}/ok.png?${secret}`, "blocked-address", { allowedHttpOrigins: [] });
  });

  it.each([
    () => `https://127.0.0.1:${port}/ok.png?${secret}`,
    () => `https://localhost:${port}/ok.png?${secret}`,
    () => `https://[::1]:${port}/ok.png?${secret}`,
    () => `https://[::ffff:127.0.0.1]:${port}/ok.png?${secret}`,
    () => `https://2130706433:${port}/ok.png?${secret}`, // 127.0.0.1 as a decimal host
  ])("refuses loopback over https before connecting (%#)", async (url) => {
    const before = connections;
    await expectFailure(url(), "blocked-address");
    expect(connections).toBe(before);
  });

  it("checks every resolved address, not just the first", async () => {
    const resolveHost = async () => [
      { address: "93.184.216.34", family: 4 },
      { address: "10.0.0.7", family: 4 },
    ];
    await expectFailure(`https://mixed.example/a.png?${secret}`, "blocked-address", { resolveHost });
  });

  it("refuses other schemes and malformed URLs without echoing them", async () => {
    await expectFailure(`ftp://example.com/a.png?${secret}`, "blocked-address");
    await expectFailure(`file:///etc/passwd?${secret}`, "blocked-address");
    await expectFailure(`not a url ${secret}`, "blocked-address");
  });

  it("reports a host that does not resolve as a network error", async () => {
    const resolveHost = async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" });
    };
    const error = await expectFailure(`https://nowhere.example/a.png?${secret}`, "network", { resolveHost });
    expect(error.message).toContain("ENOTFOUND");
  });
});

describe("pinnedLookup", () => {
  const addresses = [
    { address: "93.184.216.34", family: 4 },
    { address: "2606:2800:220:1:248:1893:25c8:1946", family: 6 },
  ];

  function lookup(options: { all?: boolean; family?: number }) {
    return new Promise<unknown[]>((resolve) => {
      pinnedLookup(addresses)("anything.example", options, (error, address, family) =>
        resolve([error?.message ?? null, address, family]),
      );
    });
  }

  it("answers only with the checked addresses, whatever the hostname", async () => {
    expect(await lookup({ all: true })).toEqual([null, addresses, undefined]);
    expect(await lookup({})).toEqual([null, "93.184.216.34", 4]);
    expect(await lookup({ family: 6 })).toEqual([null, "2606:2800:220:1:248:1893:25c8:1946", 6]);
  });

  it("really steers undici's connection, whatever the hostname says", async () => {
    const agent = new Agent({ connect: { lookup: pinnedLookup([{ address: "127.0.0.1", family: 4 }]) } });
    try {
      const response = await request(`http://pinned.invalid:${port}/ok.png`, { dispatcher: agent });
      expect(Buffer.from(await response.body.arrayBuffer()).equals(png)).toBe(true);
    } finally {
      await agent.close();
    }
  });

  it("fails rather than falling back to real DNS", async () => {
    const [error] = await new Promise<unknown[]>((resolve) => {
      pinnedLookup([{ address: "93.184.216.34", family: 4 }])("x", { family: 6 }, (e, a) => resolve([e, a]));
    });
    expect(error).toBeInstanceOf(Error);
  });
});
