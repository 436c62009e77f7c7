// Links in a prompt that a provider must not be asked to fetch. Image prompts, --sref/--cref/--oref
// references and attachment links are fetched by the image service, so a link to 127.0.0.1 or
// 169.254.169.254 would make it reach into its own network (SSRF through the provider), and
// `file://` or `gopher://` links have no business in a prompt at all. Pure: hosts are judged by
// how the URL is written (the WHATWG URL parser normalises `2130706433`, `0x7f.1`, `127.1`, …);
// ordinary DNS names pass, since nothing here resolves them.
import { addressKind, parseIpv4 } from "./addresses.ts";
import { englishPart, type Phrase, type PhraseKey, phrase, promptError } from "./messages.ts";
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
const localSuffixes: readonly [suffix: string, kind: PhraseKey][] = [
  ["localhost", "host.loopbackName"],
  ["local", "host.mdnsName"],
  ["internal", "host.privateName"],
  ["home.arpa", "host.homeName"],
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
      const problem = linkProblemPhrase(link, rules);
      if (problem === undefined) continue;
      return promptError(index < imageCount ? "unsafe-image-link" : "unsafe-link", {
        link: shown(link),
        problem,
      });
    }
  }
  return undefined;
}

/** Why this link must not be fetched ("points at a loopback address"), in English, or undefined when it may. */
export function linkProblem(link: string, rules: LinkRules = {}): string | undefined {
  const problem = linkProblemPhrase(link, rules);
  return problem && englishPart(problem);
}

/** Why this link must not be fetched, as words to say in the reader's language, or undefined when it may. */
export function linkProblemPhrase(link: string, rules: LinkRules = {}): Phrase | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(link)?.[1]?.toLowerCase();
  if (scheme === undefined) return phrase("link.notLink");
  if (scheme !== "http" && scheme !== "https") return phrase("link.scheme", { scheme });
  const url = parseLink(link);
  if (url === undefined) return phrase("link.invalid");
  if (isTrusted(url, rules.trustedOrigins ?? [])) return undefined;
  if (rules.requireHttps && url.protocol !== "https:") return phrase("link.notHttps");
  const kind = hostProblem(url.hostname);
  if (kind === undefined) return undefined;
  // `http://2130706433/` means 127.0.0.1: say so when the link does not show it.
  return link.toLowerCase().includes(url.hostname)
    ? phrase("link.pointsAt", { kind: phrase(kind) })
    : phrase("link.pointsAtHost", { kind: phrase(kind), host: url.hostname });
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
function hostProblem(hostname: string): PhraseKey | undefined {
  if (hostname.startsWith("[")) return addressProblem(hostname.slice(1, -1));
  if (parseIpv4(hostname) !== undefined) return addressProblem(hostname);
  const name = hostname.replace(/\.+$/, "");
  if (name === "") return "host.emptyName";
  for (const [suffix, kind] of localSuffixes) {
    if (name === suffix || name.endsWith(`.${suffix}`)) return kind;
  }
  // Dotless names resolve through the local search domain (`http://metadata/`), never publicly.
  if (!name.includes(".")) return "host.singleLabel";
  return undefined;
}

function addressProblem(address: string): PhraseKey | undefined {
  const kind = addressKind(address);
  if (kind === undefined) return "host.unreadableAddress";
  return kind === "public" ? undefined : `address.${kind}`;
}

function shown(link: string): string {
  const safe = link.replaceAll("`", "ˋ");
  return safe.length > shownLinkLength ? `${safe.slice(0, shownLinkLength - 1)}…` : safe;
}
