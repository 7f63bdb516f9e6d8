/** @module lvm.test — the private LVM environment's configuration and commands, and the parsing of real lvm2 2.03 reports. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isImagePrepError } from "../../errors.ts";
import { dmTable, linearRange, parseLvmReports, privateDmName, privateLvmConf, reportArgs } from "./lvm.ts";

// Printed by lvm2 2.03.16 (Debian 12) for a PV on /dev/loop0 holding VG rl (made by testing/build-lvm).
const PVS = `  {
      "report": [
          {
              "pv": [
                  {"pv_name":"/dev/loop0", "pv_uuid":"MjxFqn-xE78-IfA7-Ru6W-Nz4U-De48-dYDuwl", "vg_name":"rl", "pe_start":"1048576"}
              ]
          }
      ]
  }`;
const LVS = `  {
      "report": [
          {
              "seg": [
                  {"vg_name":"rl", "lv_name":"root", "segtype":"linear", "seg_start_pe":"0", "seg_size_pe":"80", "seg_pe_ranges":"/dev/loop0:0-79", "vg_extent_size":"4194304"},
                  {"vg_name":"rl", "lv_name":"swap", "segtype":"linear", "seg_start_pe":"0", "seg_size_pe":"4", "seg_pe_ranges":"/dev/loop0:80-83", "vg_extent_size":"4194304"},
                  {"vg_name":"rl", "lv_name":"home", "segtype":"linear", "seg_start_pe":"0", "seg_size_pe":"2", "seg_pe_ranges":"/dev/loop0:84-85", "vg_extent_size":"4194304"},
                  {"vg_name":"rl", "lv_name":"home", "segtype":"linear", "seg_start_pe":"2", "seg_size_pe":"2", "seg_pe_ranges":"/dev/loop0:90-91", "vg_extent_size":"4194304"},
                  {"vg_name":"rl", "lv_name":"pool", "segtype":"thin-pool", "seg_start_pe":"0", "seg_size_pe":"2", "seg_pe_ranges":"", "vg_extent_size":"4194304"}
              ]
          }
      ]
  }`;

describe("LVM in a private environment", () => {
  it("sees only the guest's loop device and writes nothing to the host's LVM", () => {
    const conf = privateLvmConf("/dev/loop7");
    assert.match(conf, /filter = \[ "a\|\^\/dev\/loop7\$\|", "r\|\.\*\|" \]/);
    assert.match(conf, /use_devicesfile = 0/);
    assert.match(conf, /hints = "none"/);
    assert.match(conf, /backup = 0 archive = 0/);
    assert.match(conf, /udev_sync = 0/);
    assert.deepEqual(reportArgs("pvs", "/dev/loop7").slice(0, 3), ["--readonly", "--devices", "/dev/loop7"]);
    assert.ok(reportArgs("lvs", "/dev/loop7").includes("--segments"));
  });

  it("parses the reports: one-segment linear volumes are byte ranges, the others need device-mapper", () => {
    const vg = parseLvmReports(PVS, LVS);
    assert.ok(vg);
    assert.equal(vg.name, "rl");
    assert.deepEqual(
      vg.volumes.map((v) => v.name),
      ["root", "swap", "home", "pool"],
    );
    const [root, swap, home, pool] = vg.volumes;
    assert.deepEqual(linearRange(vg, root as (typeof vg.volumes)[0]), {
      offset: 1048576,
      bytes: 80 * 4194304,
    });
    assert.deepEqual(linearRange(vg, swap as (typeof vg.volumes)[0]), {
      offset: 1048576 + 80 * 4194304,
      bytes: 4 * 4194304,
    });
    assert.equal(linearRange(vg, home as (typeof vg.volumes)[0]), undefined);
    assert.equal(linearRange(vg, pool as (typeof vg.volumes)[0]), undefined);
    // Two segments: a device-mapper table in sectors on the loop device, past pe_start.
    assert.equal(
      dmTable(vg, home as (typeof vg.volumes)[0], "/dev/loop3"),
      "0 16384 linear /dev/loop3 690176\n16384 16384 linear /dev/loop3 739328",
    );
    assert.throws(
      () => dmTable(vg, pool as (typeof vg.volumes)[0], "/dev/loop3"),
      (e) => isImagePrepError(e, "unsupported_image"),
    );
    assert.match(privateDmName(root as (typeof vg.volumes)[0]), /^icaas-[0-9a-f]{12}-root$/);
    assert.equal(parseLvmReports(PVS.replace('"rl"', '""'), LVS), undefined);
  });
});
