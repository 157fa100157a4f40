/**
 * The client a per-address limit counts: an IPv4 address as it is, an IPv6 address by its /64
 * (one subscriber's network: a single host can use every address in it, so counting each would
 * let one attacker spray from billions). An IPv4-mapped IPv6 address counts as its IPv4.
 */
import ipaddr from "ipaddr.js";

export function clientKey(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv4") return parsed.toString();
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  return `${v6.parts
    .slice(0, 4)
    .map((part) => part.toString(16))
    .join(":")}::/64`;
}
