import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CHECKSUM_PATTERN,
  CONTAINER_MAX_LENGTH,
  containerProblem,
  OBJECT_MAX_LENGTH,
  objectProblem,
  SRC_MAX_LENGTH,
  srcSyntaxProblem,
} from "./validation.ts";

describe("srcSyntaxProblem", () => {
  it("accepts http and https URLs with a host, in any case, with ports, IPv6, queries", () => {
    for (const src of [
      "http://example.org/disk.img",
      "HTTPS://Example.ORG:8443/a/b.qcow2?x=1&y=%20#frag",
      "http://[::1]:8080/d.img",
      "http://127.0.0.1/d.img",
      `https://example.org/${"a".repeat(SRC_MAX_LENGTH - 24)}`,
    ])
      assert.equal(srcSyntaxProblem(src), undefined, src);
  });

  it("refuses what the URL parser would repair or reject, naming the reason", () => {
    const cases: [string, RegExp][] = [
      ["http://", /host/],
      ["https://", /host/],
      ["http:///etc/passwd", /host/],
      ["http://\\\\host/x", /host/],
      ["http://?x", /host/],
      ["https://a b/c", /whitespace/],
      ["http://example.org/a\r\nHost: evil", /whitespace or control/],
      ["http://example.org/\tdisk.img", /whitespace/],
      [" http://example.org/d.img", /whitespace/],
      ["http://example.org/d.img\u0000", /control/],
      ["http://example.org/\u0085", /control/],
      ["http://example.org:99999/d.img", /not a valid URL/],
      ["http://exa[mple.org/d.img", /not a valid URL/],
      ["ftp://example.org/d.img", /http/],
      ["javascript:alert(1)", /http/],
      [`https://example.org/${"a".repeat(SRC_MAX_LENGTH)}`, /at most 4096/],
    ];
    for (const [src, reason] of cases) assert.match(srcSyntaxProblem(src) ?? "accepted", reason, src);
  });
});

describe("containerProblem", () => {
  it("accepts one path segment, and nothing (the default)", () => {
    for (const name of ["", "images", "my images", ".hidden", "a..b", "ünï"])
      assert.equal(containerProblem(name), undefined, name);
  });
  it("refuses . and .. (URL parsing collapses them), a slash, and names too long", () => {
    for (const name of [".", "..", "a/b", "/"])
      assert.match(containerProblem(name) ?? "accepted", /\. or \.\./, name);
    assert.match(containerProblem("c".repeat(CONTAINER_MAX_LENGTH + 1)) ?? "accepted", /at most 256/);
    assert.equal(containerProblem("c".repeat(CONTAINER_MAX_LENGTH)), undefined);
  });
});

describe("objectProblem", () => {
  it("accepts paths, dots inside names, and nothing (the default)", () => {
    for (const name of ["", "a.img", "dir/a.img", "a/.../b", "..a", "a..", "a/b/"])
      assert.equal(objectProblem(name), undefined, name);
  });
  it("refuses a leading slash and . or .. as a path segment", () => {
    for (const name of ["/a", ".", "..", "./a", "a/./b", "a/../b", "a/..", "a/."])
      assert.match(objectProblem(name) ?? "accepted", /path segment/, name);
    assert.match(objectProblem("o".repeat(OBJECT_MAX_LENGTH + 1)) ?? "accepted", /at most 1024/);
  });
});

describe("CHECKSUM_PATTERN", () => {
  it("takes each algorithm with a digest of its own length only", () => {
    const re = new RegExp(CHECKSUM_PATTERN, "u");
    for (const ok of [
      `md5:${"a".repeat(32)}`,
      `sha1:${"B".repeat(40)}`,
      `sha256:${"0".repeat(64)}`,
      `sha512:${"f".repeat(128)}`,
    ])
      assert.ok(re.test(ok), ok);
    for (const bad of [
      `md5:${"a".repeat(40)}`,
      `sha256:${"0".repeat(63)}`,
      `sha256:${"g".repeat(64)}`,
      "0".repeat(64),
      `SHA256:${"0".repeat(64)}`,
    ])
      assert.ok(!re.test(bad), bad);
  });
});
