import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createNvram, firmwareArgv, firmwareOf, OVMF_CODE, OVMF_VARS, ovmfFiles } from "./firmware.ts";

describe("firmwareOf", () => {
  it("is BIOS when FIRMWARE is unset, empty or bios, UEFI for uefi, in any case", () => {
    assert.equal(firmwareOf({}), "bios");
    assert.equal(firmwareOf({ FIRMWARE: " " }), "bios");
    assert.equal(firmwareOf({ FIRMWARE: "BIOS" }), "bios");
    assert.equal(firmwareOf({ FIRMWARE: "uefi" }), "uefi");
    assert.equal(firmwareOf({ FIRMWARE: "UEFI" }), "uefi");
  });

  it("refuses any other value, naming it", () => {
    assert.throws(() => firmwareOf({ FIRMWARE: "efi64" }), /FIRMWARE property 'efi64' is not valid/);
  });
});

describe("OVMF", () => {
  it("defaults to Debian's 4 MiB build, which the ovmf package installs", () => {
    assert.deepEqual(ovmfFiles({}), { code: OVMF_CODE, vars: OVMF_VARS });
    assert.ok(existsSync(OVMF_CODE) && existsSync(OVMF_VARS), "scripts/setup.sh installs ovmf");
    assert.deepEqual(ovmfFiles({ ovmfCode: "/c.fd", ovmfVars: "/v.fd" }), { code: "/c.fd", vars: "/v.fd" });
  });

  it("maps the code read-only and the VM's own variable store writable", () => {
    assert.deepEqual(firmwareArgv("/c.fd", "/vm/OVMF_VARS.fd"), [
      "-drive",
      "if=pflash,format=raw,unit=0,readonly=on,file=/c.fd",
      "-drive",
      "if=pflash,format=raw,unit=1,file=/vm/OVMF_VARS.fd",
    ]);
  });

  it("gives a VM a copy of the variable store, and says what is missing when it cannot", async () => {
    const dir = await mkdtemp(join(tmpdir(), "firmware-"));
    try {
      await writeFile(join(dir, "vars.fd"), "pristine");
      await createNvram(join(dir, "nvram.fd"), { ovmfVars: join(dir, "vars.fd") });
      assert.equal(readFileSync(join(dir, "nvram.fd"), "utf8"), "pristine");
      await assert.rejects(
        createNvram(join(dir, "other.fd"), { ovmfVars: join(dir, "none.fd") }),
        /UEFI variable store .*none\.fd.*install Debian's ovmf/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
