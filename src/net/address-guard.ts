/**
 * Refuses outbound requests to addresses that are not the public internet: every special-purpose
 * range of the IANA IPv4 and IPv6 registries (loopback, private, link-local and cloud metadata,
 * CGNAT, documentation, benchmarking, multicast, reserved), the transition ranges that embed or
 * translate to IPv4 (IPv4-mapped and -compatible, NAT64, 6to4, Teredo), and local names, unless
 * the host is in HTTP_STEP_ALLOWLIST. Names are normalised first (case, trailing dots); IPv4 in
 * decimal, octal or hex forms arrives normalised by the URL parser. Workflows are user-authored;
 * without this an http step or tool could read internal services. Redirects are checked hop by
 * hop by the caller (guarded-fetch.ts).
 *
 * What it cannot see: Workers have no DNS API, so a public name that resolves to a private
 * address is not refused here. On Cloudflare that request leaves from Cloudflare's network and
 * cannot reach the operator's private network; locally (`npm run dev`) it can (see the README).
 */

import ipaddr from "ipaddr.js";

export class AddressRefusedError extends Error {}

/** Special-use names (RFC 6761, RFC 8375 and cloud metadata names) and everything under them. */
const LOCAL_SUFFIXES = ["localhost", "local", "internal", "localdomain", "home.arpa", "invalid", "onion"];
const LOCAL_NAMES = new Set(["metadata", "metadata.google.internal", "instance-data"]);

/** Throws AddressRefusedError unless `url` may be fetched; returns the parsed URL. */
export function assertPublicUrl(url: string, allowlist: readonly string[]): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AddressRefusedError(`"${url}" is not a valid URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new AddressRefusedError(`only http and https are allowed, not ${parsed.protocol}`);
  }
  if (parsed.username || parsed.password) throw new AddressRefusedError("credentials in URLs are not allowed");
  const host = normalHost(parsed.hostname);
  const port = parsed.port || (parsed.protocol === "https:" ? "443" : "80");
  if (isAllowlisted(host, port, allowlist)) return parsed;
  if (LOCAL_NAMES.has(host) || LOCAL_SUFFIXES.some((suffix) => host === suffix || host.endsWith(`.${suffix}`)))
    throw new AddressRefusedError(`${host} is a local name`);
  const reason = isIPv4(host) || host.includes(":") ? blockedAddress(host) : null;
  if (reason) throw new AddressRefusedError(`${host} is not a public address (${reason})`);
  if (!host.includes(".") && !host.includes(":")) throw new AddressRefusedError(`${host} is a local name`);
  return parsed;
}

/** Lower case, brackets and trailing dots gone: `LOCALHOST.` and `localhost` are one name. */
export function normalHost(hostname: string): string {
  return hostname
    .replace(/^\[|\]$/g, "")
    .toLowerCase()
    .replace(/\.+$/, "");
}

function isAllowlisted(host: string, port: string, allowlist: readonly string[]): boolean {
  return allowlist.some((entry) => {
    const item = entry.toLowerCase().trim();
    const [name, itemPort] = item.startsWith("[") ? splitBracketed(item) : splitPort(item);
    const wanted = normalHost(name);
    if (itemPort && itemPort !== port) return false;
    if (wanted.startsWith("*.")) return host.endsWith(wanted.slice(1));
    return wanted === host;
  });
}

function splitPort(item: string): [string, string | null] {
  const colons = item.split(":").length - 1;
  if (colons !== 1) return [item, null];
  const [name, port] = item.split(":");
  return [name, port];
}

function splitBracketed(item: string): [string, string | null] {
  const end = item.indexOf("]");
  const port = item.slice(end + 1).replace(/^:/, "");
  return [item.slice(0, end + 1), port || null];
}

function isIPv4(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}

/**
 * Why an address is not the public internet, or null. ipaddr.js names the IANA special-purpose
 * ranges (private, loopback, linkLocal, carrierGradeNat, reserved — documentation, benchmarking,
 * class E —, as112, amt, multicast, rfc6052 NAT64, 6to4, teredo, uniqueLocal, deprecatedSiteLocal,
 * discard, segmentRouting, orchid2, …); anything but "unicast" is refused.
 */
/** ipaddr.js's range names, as the refusal says them. */
const RANGE_NAMES: Record<string, string> = {
  unspecified: "unspecified (this-network)",
  broadcast: "reserved (broadcast)",
  linkLocal: "link-local (cloud metadata)",
  carrierGradeNat: "carrier-grade NAT",
  reserved: "reserved: IETF protocol assignment, documentation, benchmarking or future use",
  as112: "AS112",
  amt: "AMT",
  rfc6052: "NAT64",
  rfc6145: "IPv4-translated",
  teredo: "Teredo",
  deprecatedSiteLocal: "site-local",
  uniqueLocal: "unique-local (private)",
  discard: "discard-only",
  segmentRouting: "SRv6",
  benchmarking: "benchmarking",
  orchid2: "ORCHIDv2",
  ipv4Compatible: "IPv4-compatible",
};

function blockedAddress(host: string): string | null {
  const range = rangeOf(host);
  return range === null ? null : (RANGE_NAMES[range] ?? range);
}

function rangeOf(host: string): string | null {
  if (!ipaddr.isValid(host)) return "malformed";
  const address = ipaddr.parse(host);
  if (address.kind() === "ipv6") {
    const v6 = address as ipaddr.IPv6;
    // An IPv4-mapped address (::ffff:a.b.c.d) is as public as the IPv4 address it carries.
    if (v6.isIPv4MappedAddress() && v6.parts[5] === 0xffff) return rangeOf(v6.toIPv4Address().toString());
    const range = v6.range();
    // ::a.b.c.d (deprecated IPv4-compatible) carries an IPv4 address too; ipaddr.js calls it unicast.
    const compatible = v6.parts.slice(0, 6).every((part) => part === 0) && !["unspecified", "loopback"].includes(range);
    if (range === "ipv4Mapped" || compatible) return "ipv4Compatible";
    if (range !== "unicast") return range;
    // Only 2000::/3 is global unicast; ipaddr.js calls the unassigned rest "unicast" too.
    if ((v6.parts[0] & 0xe000) !== 0x2000) return "reserved";
    return null;
  }
  const range = address.range();
  return range === "unicast" ? null : range;
}
