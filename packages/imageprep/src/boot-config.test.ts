/** @module boot-config.test — tests for boot-config: /etc/default/grub variables and serial console options. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findShellVar, setShellVar } from "./boot-config.ts";
import { withoutSerial } from "./tasks/disable-serial-console.ts";

describe("/etc/default/grub variables", () => {
  const text =
    "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\nGRUB_CMDLINE_LINUX='a b'\nGRUB_X=bare\n";
  it("reads the last assignment, unquoted", () => {
    assert.deepEqual(findShellVar(text, "GRUB_CMDLINE_LINUX_DEFAULT"), {
      index: 1,
      value: "quiet splash",
      quote: '"',
    });
    assert.deepEqual(findShellVar(`${text}GRUB_TIMEOUT=7\n`, "GRUB_TIMEOUT"), {
      index: 4,
      value: "7",
      quote: "",
    });
    assert.equal(findShellVar(text, "GRUB_NOPE"), undefined);
  });
  it("sets a value in its old quoting, or appends it", () => {
    assert.match(
      setShellVar(text, "GRUB_CMDLINE_LINUX", "a b net.ifnames=0"),
      /^GRUB_CMDLINE_LINUX='a b net\.ifnames=0'$/m,
    );
    assert.match(setShellVar(text, "GRUB_TIMEOUT", "10"), /^GRUB_TIMEOUT=10$/m);
    assert.match(setShellVar(text, "GRUB_X", "has space"), /^GRUB_X="has space"$/m);
    assert.equal(setShellVar("A=1", "B", "x y"), 'A=1\nB="x y"\n');
    assert.match(
      setShellVar(text, "GRUB_CMDLINE_LINUX_DEFAULT", 'say "$HOME"'),
      /^GRUB_CMDLINE_LINUX_DEFAULT="say \\"\\\$HOME\\""$/m,
    );
  });
});

describe("serial console options", () => {
  it("are removed, everything else kept", () => {
    assert.equal(withoutSerial("quiet console=ttyS0,115200n8"), "quiet");
    assert.equal(
      withoutSerial("console=tty0 console=ttyS1 earlyprintk=serial,ttyS0,115200 ro"),
      "console=tty0 ro",
    );
    assert.equal(withoutSerial("console=ttyUSB0 quiet"), "quiet");
  });
});
