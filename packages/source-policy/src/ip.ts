/** @module ip — IP addresses as numbers: parsing (IPv4, IPv6, embedded IPv4), CIDR membership. */
import { isIPv4, isIPv6 } from "node:net";

/** An address as a number: 32 bits for IPv4, 128 for IPv6. */
export interface IpAddress {
  version: 4 | 6;
  value: bigint;
}

/** `a.b.c.d` (the canonical dotted quad; other IPv4 spellings are the URL parser's job). */
function parseIpv4(text: string): bigint {
  return text.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

/** A valid IPv6 text (checked by `isIPv6`), a trailing dotted quad included. */
function parseIpv6(text: string): bigint {
  const hexOnly = text.replace(/(\d+\.\d+\.\d+\.\d+)$/, (quad) => {
    const v4 = parseIpv4(quad);
    return `${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  });
  const [left, right] = hexOnly.split("::");
  const groups = (s: string | undefined) => (s ? s.split(":").map((g) => BigInt(`0x${g}`)) : []);
  const l = groups(left);
  const r = groups(right);
  const all = hexOnly.includes("::")
    ? [...l, ...new Array<bigint>(8 - l.length - r.length).fill(0n), ...r]
    : l;
  return all.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/**
 * Parses a literal address: `a.b.c.d`, or IPv6 with or without brackets (a zone such as `%eth0` is
 * ignored). Anything else (a host name) gives undefined.
 */
export function parseIp(text: string): IpAddress | undefined {
  const bracketed = /^\[(.*)\]$/.exec(text);
  const bare = (bracketed?.[1] ?? text).replace(/%.*$/, "");
  if (isIPv4(bare) && !bracketed) return { version: 4, value: parseIpv4(bare) };
  if (isIPv6(bare)) return { version: 6, value: parseIpv6(bare) };
  return undefined;
}

/** The canonical text: dotted quad, or IPv6 as 8 hex groups with the longest zero run as `::`. */
export function formatIp(ip: IpAddress): string {
  if (ip.version === 4) return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 0xffn)).join(".");
  const groups = Array.from({ length: 8 }, (_, i) => Number((ip.value >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len && j - i > 1) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(":");
  return `${hex.slice(0, best.at).join(":")}::${hex.slice(best.at + best.len).join(":")}`;
}

/** A network: the address with its host bits cleared and the prefix length. */
export interface Cidr {
  network: IpAddress;
  prefix: number;
}

/** `10.0.0.0/8`, `fd00::/8`, or a bare address (a /32 or /128). Undefined when it is neither. */
export function parseCidr(text: string): Cidr | undefined {
  const [addr, bits, ...rest] = text.split("/");
  if (rest.length > 0 || addr === undefined) return undefined;
  const ip = parseIp(addr);
  if (!ip) return undefined;
  const max = ip.version === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { network: { version: ip.version, value: ip.value & mask(ip.version, prefix) }, prefix };
}

function mask(version: 4 | 6, prefix: number): bigint {
  const bits = version === 4 ? 32n : 128n;
  const all = (1n << bits) - 1n;
  return prefix === 0 ? 0n : (all << (bits - BigInt(prefix))) & all;
}

/** True when `ip` is in `cidr` (same family only). */
export function inCidr(ip: IpAddress, cidr: Cidr): boolean {
  return (
    ip.version === cidr.network.version && (ip.value & mask(ip.version, cidr.prefix)) === cidr.network.value
  );
}

/** IPv6 prefixes whose last 32 bits are an IPv4 address that the packet really goes to. */
const EMBEDDING_V4 = ["::ffff:0:0/96", "::/96", "64:ff9b::/96"].map((c) => parseCidr(c)!);

/**
 * The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`) or NAT64
 * (`64:ff9b::a.b.c.d`) IPv6 address: a socket to it reaches that IPv4 host, so it is judged as one.
 * `::` and `::1` are themselves, not IPv4.
 */
export function embeddedIpv4(ip: IpAddress): IpAddress | undefined {
  if (ip.version !== 6 || ip.value <= 1n) return undefined;
  if (!EMBEDDING_V4.some((c) => inCidr(ip, c))) return undefined;
  return { version: 4, value: ip.value & 0xffffffffn };
}
