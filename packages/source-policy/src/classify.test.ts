import assert from "node:assert/strict";
import { it } from "node:test";
import { classifyAddress, effectiveAddress, METADATA_ADDRESSES } from "./classify.ts";
import { parseIp } from "./ip.ts";

const kind = (text: string) => classifyAddress(parseIp(text)!);

it("classifies every kind, IPv4-in-IPv6 forms by their IPv4 address", () => {
  const cases: [string, ReturnType<typeof classifyAddress>][] = [
    ["169.254.169.254", "metadata"],
    ["::ffff:169.254.169.254", "metadata"],
    ["::ffff:a9fe:a9fe", "metadata"],
    ["64:ff9b::169.254.169.254", "metadata"],
    ["fd00:ec2::254", "metadata"],
    ["100.100.100.200", "metadata"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["::", "unspecified"],
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["::1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["169.254.1.1", "link-local"],
    ["fe80::1", "link-local"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["255.255.255.255", "reserved"],
    ["10.0.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "private"],
    ["fd12::1", "private"],
    ["::ffff:10.0.0.1", "private"],
    ["8.8.8.8", "public"],
    ["172.32.0.1", "public"],
    ["2001:db8::1", "public"],
  ];
  for (const [text, expected] of cases) assert.equal(kind(text), expected, text);
});

it("lists only addresses it classifies as metadata", () => {
  for (const a of METADATA_ADDRESSES) assert.equal(kind(a), "metadata", a);
});

it("names the address a mapped IPv6 address really reaches", () => {
  assert.equal(effectiveAddress(parseIp("::ffff:169.254.169.254")!), "169.254.169.254");
  assert.equal(effectiveAddress(parseIp("fd00:ec2:0::254")!), "fd00:ec2::254");
});
