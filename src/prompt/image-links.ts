// Links in a prompt that a provider must not be asked to fetch. Image prompts, --sref/--cref/--oref
// references and attachment links are fetched by the image service, so a link to 127.0.0.1 or
// 169.254.169.254 would make it reach into its own network (SSRF through the provider), and
// `file://` or `gopher://` links have no business in a prompt at all. Pure: hosts are judged by
// how the URL is written (the WHATWG URL parser normalises `2130706433`, `0x7f.1`, `127.1`, …);
// ordinary DNS names pass, since nothing here resolves them.
import { classifyIpAddress, parseIpv4 } from "./addresses.ts";
import type { PromptError } from "./types.ts";

export interface LinkRules {
  /**
   * Origins (or any URL on them) whose links pass even over http or on a private address: the
   * bot's own attachment server in tests, a self-hosted backend.
   */
  trustedOrigins?: readonly string[];
  /** Refuse plain http too (Discord attachments always come over https). */
  requireHttps?: boolean;
}

// `scheme:` followed by a slash or backslash (the URL parser reads `http:\\host` and `http:/host`
// as `http://host`), starting at a word boundary. Single letters are left alone: `C:\` is a drive.
const schemeStart = /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]+):[/\\]/gi;
// A data URL carries its content inline; `data:` followed by a media type, `;` or `,`.
const dataUrl = /(?<![a-z0-9+.-])data:(?:[a-z]+\/|[;,])/i;
// Where a link ends inside a token: quotes and angle brackets wrap links, they are not part of them.
const linkEnd = /[\s<>"“”`]/;
const trailingPunctuation = /[)\]}.,;:!?'’]+$/;
const weightSuffix = /::-?[\d.]+$/;
// Names that only resolve inside a machine or a private network (RFC 6761, RFC 6762, RFC 8375,
// and ICANN's 2024 reservation of `.internal`, used by cloud metadata such as metadata.google.internal).
const localSuffixes: readonly [suffix: string, kind: string][] = [
  ["localhost", "a loopback name"],
  ["local", "a local-network (mDNS) name"],
  ["internal", "a private-network name"],
  ["home.arpa", "a home-network name"],
];
const shownLinkLength = 100;

/**
 * The first link in the prompt that must not be sent, as an error naming the link and why; the
 * first `imageCount` tokens are the image prompts.
 */
export function findUnsafeLink(
  tokens: readonly string[],
  imageCount: number,
  rules: LinkRules = {},
): PromptError | undefined {
  for (const [index, token] of tokens.entries()) {
    for (const link of linksIn(token)) {
      const problem = linkProblem(link, rules);
      if (problem === undefined) continue;
      const what = index < imageCount ? "Image prompts" : "Links in a prompt";
      return { message: `${what} must be public http(s) links; \`${shown(link)}\` ${problem}.` };
    }
  }
  return undefined;
}

/** Why this link must not be fetched ("points at a loopback address"), or undefined when it may. */
export function linkProblem(link: string, rules: LinkRules = {}): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(link)?.[1]?.toLowerCase();
  if (scheme === undefined) return "is not a link";
  if (scheme !== "http" && scheme !== "https") return `uses the ${scheme}: scheme`;
  const url = parseLink(link);
  if (url === undefined) return "is not a valid link";
  if (isTrusted(url, rules.trustedOrigins ?? [])) return undefined;
  if (rules.requireHttps && url.protocol !== "https:") return "is not an https link";
  const kind = hostProblem(url.hostname);
  if (kind === undefined) return undefined;
  // `http://2130706433/` means 127.0.0.1: say so when the link does not show it.
  const hint = link.toLowerCase().includes(url.hostname) ? "" : ` (${url.hostname})`;
  return `points at ${kind}${hint}`;
}

/** Every link-looking part of a token, from its scheme to where the token or its wrapping ends. */
function linksIn(token: string): string[] {
  const links: string[] = [];
  for (const match of token.matchAll(schemeStart)) {
    const rest = token.slice(match.index);
    const end = rest.search(linkEnd);
    links.push(end === -1 ? rest : rest.slice(0, end));
  }
  const data = dataUrl.exec(token);
  if (data) links.push(token.slice(data.index).split(linkEnd)[0] ?? "");
  return links;
}

/** The URL as written, or without a `::2` weight or trailing punctuation when only that spoils it. */
function parseLink(link: string): URL | undefined {
  const candidates = [link, link.replace(weightSuffix, ""), link.replace(trailingPunctuation, "")];
  const parsable = candidates.find((candidate) => URL.canParse(candidate));
  return parsable === undefined ? undefined : new URL(parsable);
}

function isTrusted(url: URL, trustedOrigins: readonly string[]): boolean {
  return trustedOrigins.some((trusted) => URL.canParse(trusted) && new URL(trusted).origin === url.origin);
}

/** What the host is when it is not a public one (`a loopback address`), or undefined. */
function hostProblem(hostname: string): string | undefined {
  if (hostname.startsWith("[")) return addressProblem(hostname.slice(1, -1));
  if (parseIpv4(hostname) !== undefined) return addressProblem(hostname);
  const name = hostname.replace(/\.+$/, "");
  if (name === "") return "an empty host name";
  for (const [suffix, kind] of localSuffixes) {
    if (name === suffix || name.endsWith(`.${suffix}`)) return kind;
  }
  // Dotless names resolve through the local search domain (`http://metadata/`), never publicly.
  if (!name.includes(".")) return "a local (single-label) host name";
  return undefined;
}

function addressProblem(address: string): string | undefined {
  const verdict = classifyIpAddress(address);
  if (verdict === undefined) return "an address that cannot be read";
  return verdict.public ? undefined : verdict.kind;
}

function shown(link: string): string {
  const safe = link.replaceAll("`", "ˋ");
  return safe.length > shownLinkLength ? `${safe.slice(0, shownLinkLength - 1)}…` : safe;
}
