import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseIp } from "./ip.ts";
import {
  DEFAULT_SOURCE_POLICY,
  endpointRule,
  judgeTarget,
  judgeUrl,
  parseAllowRule,
  parseSourcePolicy,
  policyFromManifest,
  policyToManifest,
} from "./policy.ts";

const target = (host: string, port: number, address: string) => ({ host, port, address: parseIp(address)! });

describe("judgeUrl (literal hosts, before any DNS)", () => {
  it("refuses loopback, link-local, metadata, unspecified and multicast hosts in every spelling", () => {
    const refused: [string, string][] = [
      ["http://169.254.169.254/latest/meta-data/", "metadata"],
      ["http://[::ffff:169.254.169.254]/", "metadata"],
      ["http://[::ffff:a9fe:a9fe]/", "metadata"],
      ["http://2852039166/", "metadata"], // decimal
      ["http://0xa9.0xfe.0xa9.0xfe/", "metadata"], // hex
      ["http://0251.0376.0251.0376/", "metadata"], // octal
      ["http://169.254.43518/", "metadata"], // a.b.c16
      ["http://[fd00:ec2::254]/", "metadata"],
      ["http://127.0.0.1:8080/x.img", "loopback"],
      ["http://2130706433/x.img", "loopback"],
      ["http://0x7f.1/x.img", "loopback"],
      ["http://127.1/x.img", "loopback"],
      ["http://[::1]/x.img", "loopback"],
      ["http://[::ffff:127.0.0.1]/x.img", "loopback"],
      ["http://localhost/x.img", "loopback"],
      ["http://img.localhost./x.img", "loopback"],
      ["http://0.0.0.0/x.img", "unspecified"],
      ["http://0/x.img", "unspecified"],
      ["http://[::]/x.img", "unspecified"],
      ["http://169.254.10.10/x.img", "link-local"],
      ["http://[fe80::1]/x.img", "link-local"],
      ["http://224.0.0.1/x.img", "multicast"],
      ["http://[ff02::1]/x.img", "multicast"],
      ["http://255.255.255.255/x.img", "reserved"],
    ];
    for (const [url, kind] of refused) {
      const refusal = judgeUrl(DEFAULT_SOURCE_POLICY, new URL(url));
      assert.equal(refusal?.kind, kind, url);
      assert.match(refusal!.message, new RegExp(`is a ${kind} address`), url);
    }
  });

  it("lets names (judged after DNS), public and, by default, private addresses through", () => {
    for (const url of [
      "https://downloads.example.org/x.img",
      "http://8.8.8.8/x.img",
      "http://[2001:db8::1]/x.img",
      "http://10.0.0.5/x.img",
      "http://[fd12::5]/x.img",
    ])
      assert.equal(judgeUrl(DEFAULT_SOURCE_POLICY, new URL(url)), undefined, url);
  });

  it("refuses private addresses when they are configured off", () => {
    const policy = parseSourcePolicy({ allowPrivate: false });
    assert.equal(judgeUrl(policy, new URL("http://192.168.1.10/x.img"))?.kind, "private");
    assert.equal(judgeUrl(policy, new URL("http://[::ffff:10.0.0.1]/x.img"))?.kind, "private");
  });
});

describe("the allow-list", () => {
  const policy = parseSourcePolicy({
    allowPrivate: false,
    allow: ["mirror.lan", "127.0.0.1:8080", "10.9.0.0/16", "[::1]:9000", "fd00:ec2::254"],
  });

  it("allows by name, by address or network, with or without a port", () => {
    assert.equal(judgeTarget(policy, target("MIRROR.lan.", 80, "192.168.1.1")), undefined);
    assert.equal(judgeTarget(policy, target("x", 8080, "127.0.0.1")), undefined);
    assert.equal(judgeTarget(policy, target("x", 443, "10.9.200.1")), undefined);
    assert.equal(judgeTarget(policy, target("x", 443, "::ffff:10.9.200.1")), undefined, "mapped form");
    assert.equal(judgeTarget(policy, target("x", 9000, "::1")), undefined);
    assert.equal(judgeTarget(policy, target("x", 80, "fd00:ec2::254")), undefined, "explicitly allowed");
  });

  it("does not widen: another port, another network or another name is judged by its address", () => {
    assert.equal(judgeTarget(policy, target("x", 8081, "127.0.0.1"))?.kind, "loopback");
    assert.equal(judgeTarget(policy, target("x", 9001, "::1"))?.kind, "loopback");
    assert.equal(judgeTarget(policy, target("x", 80, "10.8.0.1"))?.kind, "private");
    assert.equal(judgeTarget(policy, target("mirror.lan.evil", 80, "169.254.169.254"))?.kind, "metadata");
    assert.match(
      judgeTarget(policy, target("meta.test", 80, "169.254.169.254"))!.message,
      /meta\.test \(169\.254\.169\.254\) is a metadata address/,
    );
  });

  it("refuses malformed entries with the entry in the message", () => {
    for (const bad of ["10.0.0.0/33", "mirror:0", "mirror:70000", "a b", "[mirror]:80", "http://x", ""])
      assert.throws(() => parseAllowRule(bad), new RegExp(`'${bad.replace(/[.[\]/]/g, "\\$&")}'`), bad);
  });
});

describe("the deny-list (the service's own endpoints)", () => {
  const policy = parseSourcePolicy({
    allow: ["10.0.0.0/8", "icaas.lan"],
    deny: ["icaas.lan:443", "10.0.0.7:8080", "192.0.2.0/24"],
  });
  const at = (host: string, port: number, address?: string) =>
    judgeTarget(policy, { host, port, address: address === undefined ? undefined : parseIp(address) });

  it("refuses a listed endpoint by name before DNS and by address after it, even when allow-listed", () => {
    assert.equal(judgeUrl(policy, new URL("https://ICAAS.lan./icaas/builds"))?.kind, "denied");
    assert.match(
      at("icaas.lan", 443, "10.0.0.7")?.message ?? "",
      /icaas\.lan \(10\.0\.0\.7\):443 is one the service refuses/,
    );
    assert.equal(at("other.lan", 8080, "10.0.0.7")?.kind, "denied");
    assert.equal(judgeUrl(policy, new URL("http://10.0.0.7:8080/x"))?.kind, "denied");
    assert.equal(judgeUrl(policy, new URL("http://192.0.2.9/x"))?.kind, "denied");
  });

  it("leaves the endpoint's other ports and other hosts to the rest of the policy", () => {
    assert.equal(at("icaas.lan", 8443, "10.0.0.7"), undefined);
    assert.equal(at("other.lan", 80, "10.0.0.7"), undefined);
    assert.equal(judgeUrl(policy, new URL("http://10.0.0.7:80/x")), undefined);
    assert.equal(judgeUrl(policy, new URL("https://mirror.example.org/x")), undefined);
  });

  it("makes entries from the service's URLs and travels in the manifest", () => {
    assert.equal(endpointRule("https://icaas.example.org/icaas"), "icaas.example.org:443");
    assert.equal(endpointRule("http://[::1]:9000/icaas"), "[::1]:9000");
    assert.equal(endpointRule("not a url"), undefined);
    assert.deepEqual(policyFromManifest(policyToManifest(policy)), policy);
  });
});

describe("the manifest form", () => {
  it("round-trips, and an absent section is the default policy", () => {
    const policy = parseSourcePolicy({ allowPrivate: false, allow: ["Mirror.lan:8080", "10.0.0.0/8"] });
    const section = policyToManifest(policy);
    assert.deepEqual(section, { allow_private: "False", allow: "mirror.lan:8080,10.0.0.0/8", deny: "" });
    assert.deepEqual(policyFromManifest(section), policy);
    assert.deepEqual(policyFromManifest(undefined), DEFAULT_SOURCE_POLICY);
    assert.throws(() => policyFromManifest({ allow: "10.0.0.0/99" }), /10\.0\.0\.0\/99/);
  });
});
