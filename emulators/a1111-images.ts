// Pictures and logins for the AUTOMATIC1111 emulator (a1111.ts): reading a base64 image as
// `decode_base64_to_image` does, the live preview (a small grid of the batch, as the web UI's
// "show progress grid"), an upscale by a factor, and `--api-auth` behind FastAPI's HTTPBasic.
import sharp from "sharp";
import { appError } from "./a1111-protocol.ts";
import type { Reply } from "./http.ts";
import { colourForIndex } from "./images.ts";

/** A base64 image (a `data:image/…;base64,` prefix allowed); undefined when it is not an image. */
export async function decodeImage(encoding: unknown): Promise<Buffer | undefined> {
  if (typeof encoding !== "string" || encoding === "") return undefined;
  const data = encoding.startsWith("data:image/") ? (encoding.split(",")[1] ?? "") : encoding;
  const bytes = Buffer.from(data, "base64");
  try {
    await sharp(bytes).metadata();
    return bytes;
  } catch {
    return undefined;
  }
}

function rgb(index: number): { r: number; g: number; b: number } {
  const [r, g, b] = colourForIndex(index);
  return { r, g, b };
}

/** The batch as a small grid (tiles an eighth of the size, as the cheap latent preview), base64 PNG. */
export async function previewGrid(
  colours: readonly number[],
  width: number,
  height: number,
): Promise<string> {
  const columns = Math.ceil(Math.sqrt(colours.length));
  const rows = Math.ceil(colours.length / columns);
  const tileW = Math.max(8, Math.round(width / 8));
  const tileH = Math.max(8, Math.round(height / 8));
  const tiles = colours.map((index, n) => ({
    input: { create: { width: tileW, height: tileH, channels: 3 as const, background: rgb(index) } },
    left: (n % columns) * tileW,
    top: Math.floor(n / columns) * tileH,
  }));
  const canvas = sharp({
    create: { width: tileW * columns, height: tileH * rows, channels: 3, background: "#000" },
  });
  return (await canvas.composite(tiles).png().toBuffer()).toString("base64");
}

/** The image `factor` times larger (resize_mode 0), as PNG. */
export async function upscaleImage(image: Buffer, factor: number): Promise<Buffer> {
  const { width = 1, height = 1 } = await sharp(image).metadata();
  return sharp(image)
    .resize(Math.round(width * factor), Math.round(height * factor), { kernel: "nearest" })
    .png()
    .toBuffer();
}

/** `--api-auth user:password[,user2:password2]` as a map; undefined when the API is open. */
export function credentialsOf(auth: string | undefined): Map<string, string> | undefined {
  if (!auth) return undefined;
  return new Map(
    auth.split(",").map((pair) => {
      const at = pair.indexOf(":");
      return [pair.slice(0, at), pair.slice(at + 1)] as [string, string];
    }),
  );
}

function withChallenge(reply: Reply): Reply {
  return { ...reply, headers: { "www-authenticate": "Basic" } };
}

/** `Api.auth` behind HTTPBasic: "Not authenticated" without a login, "Incorrect username or password" for a wrong one. */
export function checkBasicAuth(
  credentials: Map<string, string> | undefined,
  header: string | undefined,
): { hasAuthHeader: boolean; authorized: boolean; reply?: Reply } {
  if (!credentials) return { hasAuthHeader: header !== undefined, authorized: true };
  const match = /^Basic\s+(\S+)$/i.exec(header ?? "");
  if (!match) {
    const reply = withChallenge(appError(401, "HTTPException", "Not authenticated"));
    return { hasAuthHeader: header !== undefined, authorized: false, reply };
  }
  const decoded = Buffer.from(match[1] ?? "", "base64").toString("utf8");
  const at = decoded.indexOf(":");
  if (at > 0 && credentials.get(decoded.slice(0, at)) === decoded.slice(at + 1))
    return { hasAuthHeader: true, authorized: true };
  const reply = withChallenge(appError(401, "HTTPException", "Incorrect username or password"));
  return { hasAuthHeader: true, authorized: false, reply };
}
