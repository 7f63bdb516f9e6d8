import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SRC_MAX_LENGTH, srcSyntaxProblem } from "./validate-src.ts";

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
