/** @module users.test — tests for users: who can log in, and locking like snf-image-creator. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lockShadow, loginUsers } from "./users.ts";

const PASSWD = [
  "root:x:0:0:root:/root:/bin/bash",
  "daemon:x:1:1::/usr/sbin:/usr/sbin/nologin",
  "svc:x:999:999::/srv:/usr/sbin/nologin",
  "ann:x:1000:1000::/home/ann:/bin/bash",
  "bob:x:1001:1001::/home/bob:/bin/zsh",
  "eve:x:1002:1002::/home/eve:/bin/sh",
  "old:x:1003:1003::/home/old:",
].join("\n");

const SHADOW = [
  "root:$6$abc$def:19700:0:99999:7:::",
  "daemon:*:19700:0:99999:7:::",
  "svc:$6$abc$def:19700::::::",
  "ann:!$6$abc$def:19700::::::",
  "bob:::::::: ",
  "eve:!!:19700::::::",
  "old:$1$x$y:19700::::::",
  "ghost:$6$abc$def:19700::::::",
].join("\n");

describe("users", () => {
  it("lists who can log in: a usable or empty password, a passwd entry and a login shell", () => {
    // ann is locked (!hash), eve is !!, daemon is *, svc has nologin, ghost has no passwd entry;
    // an empty shell means /bin/sh.
    assert.deepEqual(loginUsers(PASSWD, SHADOW), ["root", "bob", "old"]);
  });

  it("locks like snf-image-creator: anything but exactly * or ! becomes !", () => {
    const { text, locked } = lockShadow(SHADOW);
    assert.deepEqual(locked, ["root", "svc", "ann", "bob", "eve", "old", "ghost"]);
    const fields = text.split("\n").map((l) => l.split(":").slice(0, 3).join(":"));
    assert.deepEqual(fields, [
      "root:!:19700",
      "daemon:*:19700",
      "svc:!:19700",
      "ann:!:19700",
      "bob:!:",
      "eve:!:19700",
      "old:!:19700",
      "ghost:!:19700",
    ]);
    assert.equal(lockShadow(`${SHADOW}\n`).text.endsWith("\n"), true, "the trailing newline stays");
  });
});
