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
  const reason = isIPv4(host) ? blockedIPv4(host) : host.includes(":") ? blockedIPv6(host) : null;
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

/** The IANA IPv4 Special-Purpose Address Registry, plus multicast and the reserved class E. */
const IPV4_BLOCKS: Array<[string, number, string]> = [
  ["0.0.0.0", 8, "this-network"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "carrier-grade NAT"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local (cloud metadata)"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "IETF protocol assignment"],
  ["192.0.2.0", 24, "documentation"],
  ["192.31.196.0", 24, "AS112"],
  ["192.52.193.0", 24, "AMT"],
  ["192.88.99.0", 24, "6to4 relay"],
  ["192.168.0.0", 16, "private"],
  ["192.175.48.0", 24, "AS112"],
  ["198.18.0.0", 15, "benchmarking"],
  ["198.51.100.0", 24, "documentation"],
  ["203.0.113.0", 24, "documentation"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];

function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

function blockedIPv4(ip: string): string | null {
  if (ip.split(".").some((part) => Number(part) > 255)) return "malformed";
  const value = ipv4ToInt(ip);
  for (const [base, bits, reason] of IPV4_BLOCKS) {
    const size = 2 ** (32 - bits);
    const start = ipv4ToInt(base);
    if (value >= start && value < start + size) return reason;
  }
  return null;
}

/** The IANA IPv6 Special-Purpose Address Registry and the non-global-unicast space. */
const IPV6_BLOCKS: Array<[number[], number, string]> = [
  [[0x64, 0xff9b, 0, 0, 0, 0], 96, "NAT64"],
  [[0x64, 0xff9b, 1], 48, "NAT64 (local use)"],
  [[0x100, 0, 0, 0], 64, "discard-only"],
  [[0x2001, 0], 23, "IETF protocol assignment (Teredo, ORCHID, benchmarking)"],
  [[0x2001, 0xdb8], 32, "documentation"],
  [[0x2002], 16, "6to4"],
  [[0x3fff, 0], 20, "documentation"],
  [[0x5f00], 16, "SRv6"],
  [[0xfc00], 7, "unique-local (private)"],
  [[0xfe80], 10, "link-local"],
  [[0xfec0], 10, "site-local"],
  [[0xff00], 8, "multicast"],
];

function blockedIPv6(host: string): string | null {
  const groups = expandIPv6(host);
  if (!groups) return "malformed";
  if (groups.every((g) => g === 0)) return "unspecified";
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return "loopback";
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses carry an IPv4 address.
  if (groups.slice(0, 5).every((g) => g === 0) && (groups[5] === 0xffff || groups[5] === 0)) {
    const ipv4 = `${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${groups[7] & 255}`;
    return groups[5] === 0xffff ? blockedIPv4(ipv4) : "IPv4-compatible";
  }
  for (const [prefix, bits, reason] of IPV6_BLOCKS) if (inPrefix(groups, prefix, bits)) return reason;
  // Only 2000::/3 is global unicast; everything else is unassigned or reserved.
  if ((groups[0] & 0xe000) !== 0x2000) return "reserved";
  return null;
}

function inPrefix(groups: number[], prefix: number[], bits: number): boolean {
  for (let i = 0; i < 8 && bits > 0; i++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if ((groups[i] & mask) !== ((prefix[i] ?? 0) & mask)) return false;
  }
  return true;
}

function expandIPv6(host: string): number[] | null {
  let text = host.split("%")[0];
  const dotted = /(\d{1,3}(\.\d{1,3}){3})$/.exec(text);
  if (dotted) {
    const v = ipv4ToInt(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${(v >>> 16).toString(16)}:${(v & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.split("::");
  const left = head ? head.split(":") : [];
  const right = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const missing = 8 - left.length - right.length;
  if (text.includes("::") ? missing < 0 : left.length !== 8) return null;
  const parts = [...left, ...Array(text.includes("::") ? missing : 0).fill("0"), ...right];
  const groups = parts.map((part) => Number.parseInt(part, 16));
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}
