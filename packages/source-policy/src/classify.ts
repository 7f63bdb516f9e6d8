/** @module classify — what kind of address an IP is, for deciding whether a source may point at it. */
import { type Cidr, embeddedIpv4, formatIp, type IpAddress, inCidr, parseCidr } from "./ip.ts";

/**
 * `public` and `private` may be fetched (private unless configured off); every other kind is refused
 * by default: nothing an image source has any business being.
 */
export type AddressKind =
  | "metadata"
  | "unspecified"
  | "loopback"
  | "link-local"
  | "multicast"
  | "reserved"
  | "private"
  | "public";

/**
 * Cloud instance metadata services: they hand out credentials to whatever asks from inside the VM.
 * Most are link-local anyway; the IPv6 and Alibaba ones are in ranges otherwise allowed.
 */
export const METADATA_ADDRESSES: readonly string[] = [
  "169.254.169.254", // AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean, …
  "169.254.170.2", // AWS ECS task metadata
  "169.254.170.23", // AWS EKS pod identity
  "100.100.100.200", // Alibaba Cloud
  "192.0.0.192", // Oracle Cloud Classic
  "fd00:ec2::254", // AWS, over IPv6
  "fd00:ec2::23", // AWS EKS pod identity, over IPv6
];

/**
 * The loopback networks. Tests serve their image sources here, which the default policy refuses, so
 * their harnesses allow-list these explicitly.
 */
export const LOOPBACK_NETWORKS: readonly string[] = ["127.0.0.0/8", "::1/128"];

const RANGES: [kind: AddressKind, cidrs: readonly string[]][] = [
  ["unspecified", ["0.0.0.0/8", "::/128"]],
  ["loopback", LOOPBACK_NETWORKS],
  ["link-local", ["169.254.0.0/16", "fe80::/10"]],
  ["multicast", ["224.0.0.0/4", "ff00::/8"]],
  // 240/4 holds the broadcast address 255.255.255.255.
  ["reserved", ["240.0.0.0/4"]],
  // RFC 1918, the carrier-grade NAT shared space, unique-local and the old site-local IPv6.
  ["private", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7", "fec0::/10"]],
];

const METADATA = METADATA_ADDRESSES.map((a) => parseCidr(a)!);
const PARSED: [AddressKind, Cidr[]][] = RANGES.map(([kind, cidrs]) => [
  kind,
  cidrs.map((c) => parseCidr(c)!),
]);

/**
 * The kind of an address. An IPv6 address carrying an IPv4 one (mapped `::ffff:a.b.c.d`, compatible,
 * NAT64) is judged by that IPv4 address, since that is where its packets go.
 *
 * @example
 * classifyAddress(parseIp("::ffff:169.254.169.254")!) // "metadata"
 */
export function classifyAddress(address: IpAddress): AddressKind {
  const ip = embeddedIpv4(address) ?? address;
  if (METADATA.some((c) => inCidr(ip, c))) return "metadata";
  for (const [kind, cidrs] of PARSED) if (cidrs.some((c) => inCidr(ip, c))) return kind;
  return "public";
}

/** The address a connection really goes to, for messages: `::ffff:7f00:1` is shown as `127.0.0.1`. */
export function effectiveAddress(address: IpAddress): string {
  return formatIp(embeddedIpv4(address) ?? address);
}
