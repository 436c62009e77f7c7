// Is an IP address on the public internet, and when it is not, what is it? One table for the whole
// bot: the prompt check refuses links to such addresses before anything is sent, and the image
// downloader (src/images/address.ts) refuses to connect to them (SSRF). Pure text parsing, so the
// prompt layer can use it without I/O.
//
// A deny-list of IANA special-purpose ranges, plus "IPv6 must be global unicast (2000::/3)";
// IPv6 forms that embed an IPv4 address are judged by that address.

/** What each kind of non-public address is called, read after "points at" (the English catalogue). */
export const addressKindText = {
  unspecifiedNetwork: "an unspecified address",
  unspecified: "the unspecified address",
  private: "a private address",
  carrierNat: "a carrier-grade NAT address",
  loopback: "a loopback address",
  linkLocal: "a link-local address",
  ietfProtocol: "an IETF protocol address",
  documentation: "a documentation address",
  relay6to4: "a 6to4 relay address",
  benchmarking: "a benchmarking address",
  multicast: "a multicast address",
  reserved: "a reserved address",
  uniqueLocal: "a unique-local address",
  siteLocal: "a site-local address",
  ietfSpecial: "an IETF special-purpose address",
  ipv4Compatible: "a deprecated IPv4-compatible address",
} as const;
export type AddressKind = keyof typeof addressKindText;

/** `kind` reads after "points at": "a loopback address". */
export type AddressVerdict = { public: true } | { public: false; kind: string };

interface Range {
  base: bigint;
  prefixLength: number;
  kind: AddressKind;
}

// Before the tables: building them parses addresses.
const dottedQuad = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const hexGroup = /^[0-9a-f]{1,4}$/i;

const ipv4Ranges: readonly Range[] = [
  ipv4Range("0.0.0.0", 8, "unspecifiedNetwork"), // "this network", includes 0.0.0.0
  ipv4Range("10.0.0.0", 8, "private"),
  ipv4Range("100.64.0.0", 10, "carrierNat"),
  ipv4Range("127.0.0.0", 8, "loopback"),
  ipv4Range("169.254.0.0", 16, "linkLocal"), // cloud metadata services live here
  ipv4Range("172.16.0.0", 12, "private"),
  ipv4Range("192.0.0.0", 24, "ietfProtocol"),
  ipv4Range("192.0.2.0", 24, "documentation"),
  ipv4Range("192.88.99.0", 24, "relay6to4"), // deprecated anycast
  ipv4Range("192.168.0.0", 16, "private"),
  ipv4Range("198.18.0.0", 15, "benchmarking"),
  ipv4Range("198.51.100.0", 24, "documentation"),
  ipv4Range("203.0.113.0", 24, "documentation"),
  ipv4Range("224.0.0.0", 4, "multicast"),
  ipv4Range("240.0.0.0", 4, "reserved"), // includes broadcast 255.255.255.255
];

// Checked before "global unicast": some of these lie inside 2000::/3, the others name the kind better.
const ipv6Ranges: readonly Range[] = [
  { base: 0xfc00n << 112n, prefixLength: 7, kind: "uniqueLocal" },
  { base: 0xfe80n << 112n, prefixLength: 10, kind: "linkLocal" },
  { base: 0xfec0n << 112n, prefixLength: 10, kind: "siteLocal" }, // deprecated
  { base: 0xff00n << 112n, prefixLength: 8, kind: "multicast" },
  { base: 0x2001n << 112n, prefixLength: 23, kind: "ietfSpecial" }, // Teredo, ORCHID, …
  { base: 0x20010db8n << 96n, prefixLength: 32, kind: "documentation" },
  { base: 0x3fffn << 112n, prefixLength: 20, kind: "documentation" }, // RFC 9637
  { base: 0x5f00n << 112n, prefixLength: 16, kind: "reserved" }, // SRv6 SIDs
];
const globalUnicastIpv6 = { base: 0x2000n << 112n, prefixLength: 3 };
const ipv4MappedIpv6 = { base: 0xffffn << 32n, prefixLength: 96 }; // ::ffff:a.b.c.d
// ::a.b.c.d (deprecated); :: and ::1 are inside it but get their own names first.
const ipv4CompatibleIpv6 = { base: 0n, prefixLength: 96 };
const nat64Ipv6 = { base: 0x64ff9bn << 96n, prefixLength: 96 }; // 64:ff9b::a.b.c.d
const sixToFourIpv6 = { base: 0x2002n << 112n, prefixLength: 16 }; // 2002:aabb:ccdd::/48

const lowest32Bits = 0xffffffffn;

/**
 * The verdict for an IP address in its usual text form (dotted-quad IPv4, or IPv6 with an optional
 * `%zone`), or undefined when the text is not an IP address. Other IPv4 spellings (`127.1`,
 * `0x7f.1`) are not addresses here: the URL parser turns them into dotted quads first.
 */
export function classifyIpAddress(text: string): AddressVerdict | undefined {
  const kind = addressKind(text);
  if (kind === undefined) return undefined;
  return kind === "public" ? { public: true } : { public: false, kind: addressKindText[kind] };
}

/** Which kind of non-public address the text is, "public", or undefined when it is not an address. */
export function addressKind(text: string): AddressKind | "public" | undefined {
  const ipv4 = parseIpv4(text);
  if (ipv4 !== undefined) return classifyIpv4(ipv4);
  const zone = text.indexOf("%");
  const ipv6 = parseIpv6(zone === -1 ? text : text.slice(0, zone));
  return ipv6 === undefined ? undefined : classifyIpv6(ipv6);
}

function classifyIpv4(value: bigint): AddressKind | "public" {
  return ipv4Ranges.find((candidate) => inRange(value, candidate, 32))?.kind ?? "public";
}

function classifyIpv6(value: bigint): AddressKind | "public" {
  if (value === 0n) return "unspecified";
  if (value === 1n) return "loopback";
  if (inRange(value, ipv4MappedIpv6, 128)) return classifyIpv4(value & lowest32Bits);
  if (inRange(value, ipv4CompatibleIpv6, 128)) return "ipv4Compatible";
  // NAT64 (DNS64 networks) and 6to4 carry an IPv4 address: judge by the address they reach.
  if (inRange(value, nat64Ipv6, 128)) return classifyIpv4(value & lowest32Bits);
  if (inRange(value, sixToFourIpv6, 128)) return classifyIpv4((value >> 80n) & lowest32Bits);
  const range = ipv6Ranges.find((candidate) => inRange(value, candidate, 128));
  if (range) return range.kind;
  return inRange(value, globalUnicastIpv6, 128) ? "public" : "reserved";
}

function inRange(
  value: bigint,
  { base, prefixLength }: { base: bigint; prefixLength: number },
  bits: number,
): boolean {
  const shift = BigInt(bits - prefixLength);
  return value >> shift === base >> shift;
}

function ipv4Range(base: string, prefixLength: number, kind: AddressKind): Range {
  const value = parseIpv4(base);
  if (value === undefined) throw new Error(`bad range ${base}`);
  return { base: value, prefixLength, kind };
}

/** A dotted-quad IPv4 address (no leading zeros, as resolvers and the URL parser write it). */
export function parseIpv4(text: string): bigint | undefined {
  if (!dottedQuad.test(text)) return undefined;
  return text.split(".").reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
}

/** Any valid IPv6 text form (`::`, an embedded dotted IPv4 at the end) as its 128-bit value. */
export function parseIpv6(text: string): bigint | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const [head = "", tail] = halves;
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? withIpv4Tail(headGroups) : headGroups;
  const rest = tail === undefined ? [] : withIpv4Tail(tailGroups);
  if (groups === undefined || rest === undefined) return undefined;
  const count = groups.length + rest.length;
  // Without `::` there must be eight groups; `::` stands for at least one zero group.
  if (tail === undefined ? count !== 8 : count > 7) return undefined;
  if (![...groups, ...rest].every((group) => hexGroup.test(group))) return undefined;
  const zeros = Array<string>(8 - count).fill("0");
  return [...groups, ...zeros, ...rest].reduce(
    (value, group) => (value << 16n) | BigInt(Number.parseInt(group, 16)),
    0n,
  );
}

/** Rewrites a trailing dotted IPv4 (`::ffff:1.2.3.4`) as two hex groups; undefined when it is malformed. */
function withIpv4Tail(groups: readonly string[]): string[] | undefined {
  const last = groups.at(-1);
  if (last === undefined || !last.includes(".")) return [...groups];
  const ipv4 = parseIpv4(last);
  if (ipv4 === undefined) return undefined;
  return [...groups.slice(0, -1), (ipv4 >> 16n).toString(16), (ipv4 & 0xffffn).toString(16)];
}
