import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ManifestProblem,
  type ManifestSections,
  parseChecksum,
  parseManifest,
  parseServiceSection,
  toRawManifest,
} from "./manifest.ts";

const SENT: ManifestSections = {
  progress: { heuristic: 6.75, interval: 0.5 },
  image: { src: "http://h/a.img", name: "A", container: "images", object: "a-1.diskdump", public: "True" },
  service: { status: "http://svc/icaas/builds/agent/1", token: "agent-token", insecure: "False" },
  synnefo: { url: "http://cloud/identity/v2.0", token: "user-token" },
  log: { container: "icaas", object: "a-1.log" },
  limits: { max_download_bytes: 1000, build_timeout_seconds: 60 },
};

describe("the manifest, typed → strings → typed", () => {
  it("reads back what the service sent, through JSON and strings", () => {
    const raw = toRawManifest(JSON.parse(JSON.stringify({ ...SENT, note: "dropped" })));
    const m = parseManifest(raw, parseServiceSection(raw));
    assert.deepEqual(m.service, { status: SENT.service.status, token: "agent-token", insecure: false });
    assert.equal(m.image.public, true);
    assert.deepEqual(
      [m.progress.intervalSeconds, m.limits.maxDownloadBytes, m.limits.buildTimeoutSeconds],
      [0.5, 1000, 60],
    );
    assert.deepEqual([m.limits.minBytesPerSecond, m.limits.throughputWindowSeconds], [32768, 60], "defaults");
  });

  it("says which key is missing, in the original's words", () => {
    assert.throws(
      () => parseServiceSection({ service: { token: "t" } }),
      (e: unknown) =>
        e instanceof ManifestProblem &&
        e.message === "`status' is missing from the `service' section of the manifest",
    );
  });

  it("takes a checksum with or without its algorithm, and refuses a digest of the wrong length", () => {
    assert.deepEqual(parseChecksum("D41D8CD98F00B204E9800998ECF8427E"), {
      algorithm: "md5",
      hex: "d41d8cd98f00b204e9800998ecf8427e",
    });
    assert.deepEqual(parseChecksum(` sha1:${"A".repeat(40)} `), { algorithm: "sha1", hex: "a".repeat(40) });
    assert.throws(
      () => parseChecksum(`sha256:${"a".repeat(40)}`),
      (e: unknown) => e instanceof ManifestProblem && !!e.hint,
    );
  });
});
