/**
 * Refuses outbound requests to loopback, private, link-local, carrier-grade NAT and cloud
 * metadata addresses, given as literal IPs or as names such as `localhost`, unless the host is in
 * HTTP_STEP_ALLOWLIST. Workflows are user-authored; without this an http step could read internal
 * services. Redirects are checked hop by hop by the caller.
 */

export class AddressRefusedError extends Error {}

const BLOCKED_NAMES = [
  /^localhost$/i,
  /\.localhost$/i,
  /^metadata(\.google)?\.internal$/i,
  /\.internal$/i,
  /\.local$/i,
];

/** Throws AddressRefusedError unless `url` may be fetched. */
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
  const host = parsed.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (isAllowlisted(host, parsed.host.toLowerCase(), allowlist)) return parsed;
  if (BLOCKED_NAMES.some((pattern) => pattern.test(host))) throw new AddressRefusedError(`${host} is a local name`);
  const reason = isIPv4(host) ? blockedIPv4(host) : host.includes(":") ? blockedIPv6(host) : null;
  if (reason) throw new AddressRefusedError(`${host} is a ${reason} address`);
  return parsed;
}

function isAllowlisted(hostname: string, hostWithPort: string, allowlist: readonly string[]): boolean {
  return allowlist.some((entry) => {
    const item = entry.toLowerCase().replace(/^\[|\]$/g, "");
    if (item.startsWith("*.")) return hostname.endsWith(item.slice(1));
    return item === hostname || item === hostWithPort;
  });
}

function isIPv4(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}

const IPV4_BLOCKS: Array<[string, number, string]> = [
  ["0.0.0.0", 8, "unspecified"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "carrier-grade NAT"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local (cloud metadata)"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "reserved"],
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "benchmarking"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];

function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

function blockedIPv4(ip: string): string | null {
  const value = ipv4ToInt(ip);
  for (const [base, bits, reason] of IPV4_BLOCKS) {
    const size = 2 ** (32 - bits);
    const start = ipv4ToInt(base);
    if (value >= start && value < start + size) return reason;
  }
  return null;
}

function blockedIPv6(host: string): string | null {
  const groups = expandIPv6(host);
  if (!groups) return "malformed";
  if (groups.every((g) => g === 0)) return "unspecified";
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return "loopback";
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible addresses carry an IPv4 address.
  if (groups.slice(0, 5).every((g) => g === 0) && (groups[5] === 0xffff || groups[5] === 0)) {
    const ipv4 = `${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${groups[7] & 255}`;
    return blockedIPv4(ipv4) ?? (groups[5] === 0xffff ? null : "IPv4-compatible");
  }
  if ((groups[0] & 0xfe00) === 0xfc00) return "unique-local (private)";
  if ((groups[0] & 0xffc0) === 0xfe80) return "link-local";
  if ((groups[0] & 0xff00) === 0xff00) return "multicast";
  if (groups[0] === 0xfd00 && groups[1] === 0x0ec2) return "cloud metadata";
  return null;
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
