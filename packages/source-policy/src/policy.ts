/** @module policy — where an image source may point: refused kinds of address, an allow-list, the verdict. */
import { type AddressKind, classifyAddress, effectiveAddress } from "./classify.ts";
import { type Cidr, embeddedIpv4, type IpAddress, inCidr, parseCidr, parseIp } from "./ip.ts";

/** One allow- or deny-list entry: a host name, an address or network, either optionally with a port. */
export interface AllowRule {
  /** As configured, normalised (lower case). */
  text: string;
  host?: string;
  cidr?: Cidr;
  port?: number;
}

export interface SourcePolicy {
  /** Private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) may be fetched. */
  allowPrivate: boolean;
  /** Sources that are fetched whatever their address is (on-premises mirrors, test servers). */
  allow: readonly AllowRule[];
  /**
   * Sources never fetched, even when allow-listed: the service's own endpoints (a build pointed at them
   * would turn its log into an oracle on the service) and whatever else the operator lists.
   */
  deny: readonly AllowRule[];
}

/** Private networks allowed, nothing on the allow- or deny-list. */
export const DEFAULT_SOURCE_POLICY: SourcePolicy = { allowPrivate: true, allow: [], deny: [] };

/** Why a source is refused, in words a user can act on. */
export interface Refusal {
  /** The kind of address, or `denied` for a deny-list entry. */
  kind: AddressKind | "denied";
  /** The address the connection would have gone to. */
  address: string;
  message: string;
}

const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/**
 * Parses `mirror.example.org`, `mirror.example.org:8080`, `10.1.2.3`, `10.1.0.0/16`, `10.1.2.3:8080`,
 * `fd12::/16`, `[fd12::1]:8080`. Throws an Error saying what is wrong.
 */
export function parseAllowRule(input: string): AllowRule {
  const text = input.trim().toLowerCase();
  const fail = (why: string) =>
    new Error(`'${input}' is not a host, address or network with an optional port: ${why}`);
  let body = text;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const hostPort = /^([^:]+):(\d+)$/.exec(text);
  if (bracketed) {
    body = bracketed[1]!;
    port = bracketed[2] === undefined ? undefined : Number(bracketed[2]);
  } else if (hostPort) {
    body = hostPort[1]!;
    port = Number(hostPort[2]);
  }
  if (port !== undefined && !(port >= 1 && port <= 65535)) throw fail("the port must be 1 to 65535");
  const cidr = parseCidr(body);
  if (cidr) return { text, cidr, ...(port === undefined ? {} : { port }) };
  if (bracketed || body.includes("/") || parseIp(body.split("/")[0]!)) throw fail("bad address or prefix");
  const host = body.replace(/\.$/, "");
  if (!HOST_NAME.test(host)) throw fail("bad host name");
  return { text, host, ...(port === undefined ? {} : { port }) };
}

/** A policy from configuration values; throws on the first bad allow- or deny-list entry. */
export function parseSourcePolicy(input: {
  allowPrivate?: boolean;
  allow?: readonly string[];
  deny?: readonly string[];
}): SourcePolicy {
  return {
    allowPrivate: input.allowPrivate ?? DEFAULT_SOURCE_POLICY.allowPrivate,
    allow: (input.allow ?? []).map(parseAllowRule),
    deny: (input.deny ?? []).map(parseAllowRule),
  };
}

/**
 * The `host:port` deny-list entry for a URL the service is reached at (its endpoint, the agents' one),
 * or undefined when the URL cannot be parsed.
 */
export function endpointRule(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${portOf(parsed)}`;
  } catch {
    return undefined;
  }
}

/** What a connection is about to go to: the URL's host name and port, and the address it resolved to. */
export interface SourceTarget {
  host: string;
  port: number;
  /** Unknown when a host name is judged before DNS: then only name rules can match. */
  address: IpAddress | undefined;
}

function normalHost(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.$/, "");
}

function matches(rule: AllowRule, target: SourceTarget): boolean {
  if (rule.port !== undefined && rule.port !== target.port) return false;
  if (rule.host !== undefined) return rule.host === normalHost(target.host);
  const ip = target.address;
  if (!ip) return false;
  return inCidr(ip, rule.cidr!) || inCidr(embeddedIpv4(ip) ?? ip, rule.cidr!);
}

/** "host" or "host (address)", as a user wrote it and as it resolved. */
function described(host: string, address: string | undefined): string {
  return address === undefined || host === address ? host : `${host} (${address})`;
}

/**
 * The verdict on one connection, made on the address actually connected to: undefined when allowed,
 * else why not. The deny-list wins; then the allow-list; then public and (unless configured off) private
 * addresses pass. Without an address (a name before DNS) only the lists can refuse or allow.
 */
export function judgeTarget(policy: SourcePolicy, target: SourceTarget): Refusal | undefined {
  const host = normalHost(target.host);
  if (policy.deny.some((rule) => matches(rule, target))) {
    const address = target.address && effectiveAddress(target.address);
    return {
      kind: "denied",
      address: address ?? host,
      message: `The image source ${described(host, address)}:${target.port} is one the service refuses (its own endpoint or on its deny-list)`,
    };
  }
  if (policy.allow.some((rule) => matches(rule, target))) return undefined;
  if (!target.address) return undefined;
  const kind = classifyAddress(target.address);
  if (kind === "public" || (kind === "private" && policy.allowPrivate)) return undefined;
  const address = effectiveAddress(target.address);
  return {
    kind,
    address,
    message: `The image source ${described(host, address)} is a ${kind} address, which image sources may not point at`,
  };
}

/** The port a URL connects to. */
export function portOf(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

/**
 * The verdict on a URL before any DNS: its host when that is an address literal (in any spelling the
 * WHATWG URL parser accepts: `http://2130706433/`, `http://0x7f.1/`, `http://[::ffff:127.0.0.1]/` are
 * all 127.0.0.1 once parsed) or `localhost`, and any host named on the deny-list. Other names are
 * judged after resolution, at connect time.
 */
export function judgeUrl(policy: SourcePolicy, url: URL): Refusal | undefined {
  const host = normalHost(url.hostname);
  const localhost = host === "localhost" || host.endsWith(".localhost");
  const address = parseIp(host) ?? (localhost ? parseIp("127.0.0.1") : undefined);
  return judgeTarget(policy, { host, port: portOf(url), address });
}

/** The policy as the manifest's `[source]` section carries it (string values, as INI). */
export function policyToManifest(policy: SourcePolicy): {
  allow_private: string;
  allow: string;
  deny: string;
} {
  return {
    allow_private: policy.allowPrivate ? "True" : "False",
    allow: policy.allow.map((r) => r.text).join(","),
    deny: policy.deny.map((r) => r.text).join(","),
  };
}

/** Reads the `[source]` section; absent means the default policy. Throws on a bad entry. */
export function policyFromManifest(section: Record<string, string> | undefined): SourcePolicy {
  const list = (value: string | undefined) =>
    (value ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  const flag = section?.allow_private?.toLowerCase();
  return parseSourcePolicy({
    allowPrivate: flag === undefined ? undefined : flag === "true",
    allow: list(section?.allow),
    deny: list(section?.deny),
  });
}
