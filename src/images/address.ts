// Is an IP address on the public internet? Used by the downloader to refuse URLs that point at the
// bot's own host or network (SSRF). The ranges live in src/prompt/addresses.ts, shared with the
// prompt check that refuses such links before a job starts, so both always agree.
import { classifyIpAddress } from "../prompt/index.ts";

/** True only for addresses that are routable on the public internet. Malformed input is not public. */
export function isPublicAddress(address: string): boolean {
  return classifyIpAddress(address)?.public === true;
}
