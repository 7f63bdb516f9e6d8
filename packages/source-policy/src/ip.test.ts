import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { embeddedIpv4, formatIp, inCidr, parseCidr, parseIp } from "./ip.ts";

describe("parseIp / formatIp", () => {
  it("round-trips IPv4 and IPv6, brackets and zones dropped, dotted tails folded", () => {
    const cases: [string, string][] = [
      ["169.254.169.254", "169.254.169.254"],
      ["[::1]", "::1"],
      ["::", "::"],
      ["fe80::1%eth0", "fe80::1"],
      ["FD00:EC2:0:0:0:0:0:254", "fd00:ec2::254"],
      ["::ffff:127.0.0.1", "::ffff:7f00:1"],
      ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
      ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ];
    for (const [text, canonical] of cases) assert.equal(formatIp(parseIp(text)!), canonical, text);
  });

  it("gives undefined for names and for IPv4 spellings only the URL parser knows", () => {
    for (const text of ["example.org", "2130706433", "0x7f.1", "127.1", "", "1.2.3.4.5", "[1.2.3.4]"])
      assert.equal(parseIp(text), undefined, text);
  });
});

describe("CIDRs", () => {
  it("matches by prefix within one family", () => {
    const net = parseCidr("10.1.0.0/16")!;
    assert.ok(inCidr(parseIp("10.1.255.3")!, net));
    assert.ok(!inCidr(parseIp("10.2.0.1")!, net));
    assert.ok(!inCidr(parseIp("::ffff:10.1.0.1")!, net), "an IPv6 address is not in an IPv4 network");
    assert.ok(inCidr(parseIp("fd12:3456::9")!, parseCidr("fd12::/16")!));
    assert.ok(inCidr(parseIp("8.8.8.8")!, parseCidr("0.0.0.0/0")!));
    assert.equal(formatIp(parseCidr("10.1.2.3/8")!.network), "10.0.0.0", "host bits are cleared");
  });

  it("refuses bad prefixes", () => {
    for (const text of ["10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/a", "10.0.0.0/8/8", "host/8"])
      assert.equal(parseCidr(text), undefined, text);
  });
});

describe("embeddedIpv4", () => {
  it("finds the IPv4 address in mapped, compatible and NAT64 IPv6 addresses", () => {
    for (const text of ["::ffff:169.254.169.254", "::169.254.169.254", "64:ff9b::a9fe:a9fe"])
      assert.equal(formatIp(embeddedIpv4(parseIp(text)!)!), "169.254.169.254", text);
  });

  it("leaves ::, ::1 and ordinary IPv6 addresses alone", () => {
    for (const text of ["::", "::1", "2001:db8::a9fe:a9fe", "169.254.169.254"])
      assert.equal(embeddedIpv4(parseIp(text)!), undefined, text);
  });
});
