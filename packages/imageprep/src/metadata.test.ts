/** @module metadata.test — tests for metadata: SORTORDER and REMOTE_CONNECTION. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { remoteConnection, sortOrder } from "./metadata.ts";

describe("metadata", () => {
  it("SORTORDER follows snf-image-creator", () => {
    assert.equal(sortOrder({ type: "linux", distro: "debian", major: 12, minor: 11 }), 7701211);
    assert.equal(sortOrder({ type: "linux", distro: "ubuntu", major: 14, minor: 4 }), 7801404);
    assert.equal(sortOrder({ type: "linux", distro: "centos", major: 150, minor: 200 }), 7559999);
    assert.equal(sortOrder({ type: "linux", distro: "pop", major: 22, minor: 4 }), 7000000);
  });
  it("REMOTE_CONNECTION lists a connection per user, without root when sshd refuses it", () => {
    assert.equal(
      remoteConnection(["root", "ann"], { port: 22, permitRootLogin: "yes" }),
      "ssh:port=22,user=root ssh:port=22,user=ann",
    );
    assert.equal(
      remoteConnection(["root", "ann"], { port: 2222, permitRootLogin: "no" }),
      "ssh:port=2222,user=ann",
    );
    assert.equal(remoteConnection(["root"], { port: 22, permitRootLogin: "No" }), "ssh:port=22");
    assert.equal(remoteConnection([], { port: 22, permitRootLogin: "prohibit-password" }), "ssh:port=22");
  });
});
