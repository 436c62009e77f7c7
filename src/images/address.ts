// Is an IP address on the public internet? Used by the downloader to refuse URLs that point at the
// bot's own host or network (SSRF). A deny-list of IANA special-purpose ranges, plus "IPv6 must be
// global unicast (2000::/3)"; IPv6 forms that embed an IPv4 address are judged by that address.
import { isIP } from "node:net";

type Cidr = readonly [base: bigint, prefixLength: number];

const blockedIpv4: readonly Cidr[] = [
  cidr4("0.0.0.0", 8), // "this network", includes 0.0.0.0
  cidr4("10.0.0.0", 8), // private
  cidr4("100.64.0.0", 10), // carrier-grade NAT
  cidr4("127.0.0.0", 8), // loopback
  cidr4("169.254.0.0", 16), // link-local (cloud metadata lives here)
  cidr4("172.16.0.0", 12), // private
  cidr4("192.0.0.0", 24), // IETF protocol assignments
  cidr4("192.0.2.0", 24), // documentation
  cidr4("192.88.99.0", 24), // 6to4 relay anycast (deprecated)
  cidr4("192.168.0.0", 16), // private
  cidr4("198.18.0.0", 15), // benchmarking
  cidr4("198.51.100.0", 24), // documentation
  cidr4("203.0.113.0", 24), // documentation
  cidr4("224.0.0.0", 4), // multicast
  cidr4("240.0.0.0", 4), // reserved, includes broadcast 255.255.255.255
];

const globalUnicastIpv6: Cidr = [0x2000n << 112n, 3];
const blockedGlobalIpv6: readonly Cidr[] = [
  [0x2001n << 112n, 23], // IETF special-purpose (Teredo, benchmarking, ORCHID, …)
  [0x20010db8n << 96n, 32], // documentation
  [0x3fffn << 112n, 20], // documentation (RFC 9637)
  [0x5f00n << 112n, 16], // SRv6 SIDs
];
const ipv4MappedIpv6: Cidr = [0xffffn << 32n, 96]; // ::ffff:a.b.c.d
const ipv4CompatibleIpv6: Cidr = [0n, 96]; // ::a.b.c.d (deprecated), also :: and ::1
const nat64Ipv6: Cidr = [0x64ff9bn << 96n, 96]; // 64:ff9b::a.b.c.d
const sixToFourIpv6: Cidr = [0x2002n << 112n, 16]; // 2002:aabb:ccdd::/48

/** True only for addresses that are routable on the public internet. Malformed input is not public. */
export function isPublicAddress(address: string): boolean {
  const bare = stripZone(address);
  const version = isIP(bare);
  if (version === 4) return isPublicIpv4(parseIpv4(bare));
  if (version === 6) return isPublicIpv6(parseIpv6(bare));
  return false;
}

function isPublicIpv4(value: bigint): boolean {
  return !blockedIpv4.some((range) => inRange(value, range, 32));
}

function isPublicIpv6(value: bigint): boolean {
  if (inRange(value, ipv4MappedIpv6, 128)) return isPublicIpv4(value & 0xffffffffn);
  // Compatible form includes :: and ::1; none of it is reachable any more.
  if (inRange(value, ipv4CompatibleIpv6, 128)) return false;
  // NAT64 (DNS64 networks) and 6to4 carry an IPv4 address: judge by the address they reach.
  if (inRange(value, nat64Ipv6, 128)) return isPublicIpv4(value & 0xffffffffn);
  if (inRange(value, sixToFourIpv6, 128)) return isPublicIpv4((value >> 80n) & 0xffffffffn);
  if (!inRange(value, globalUnicastIpv6, 128)) return false; // loopback, ULA, link-local, multicast…
  return !blockedGlobalIpv6.some((range) => inRange(value, range, 128));
}

function inRange(value: bigint, [base, prefixLength]: Cidr, bits: number): boolean {
  const shift = BigInt(bits - prefixLength);
  return value >> shift === base >> shift;
}

function cidr4(base: string, prefixLength: number): Cidr {
  return [parseIpv4(base), prefixLength];
}

function stripZone(address: string): string {
  const zone = address.indexOf("%");
  return zone === -1 ? address : address.slice(0, zone);
}

function parseIpv4(address: string): bigint {
  return address.split(".").reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
}

/** Expands any valid IPv6 text form ("::", embedded dotted IPv4) to its 128-bit value. */
function parseIpv6(address: string): bigint {
  let text = address;
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = parseIpv4(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = "", rest] = text.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const restGroups = rest === undefined || rest === "" ? [] : rest.split(":");
  const zeros = rest === undefined ? [] : Array(8 - headGroups.length - restGroups.length).fill("0");
  return [...headGroups, ...zeros, ...restGroups].reduce(
    (value, group) => (value << 16n) | BigInt(Number.parseInt(group, 16)),
    0n,
  );
}
