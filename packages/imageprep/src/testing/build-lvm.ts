/** @module testing/build-lvm — an LVM physical volume with linear logical volumes in a partition, made without device-mapper (vgcfgrestore writes the LVs). */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GuestMount } from "../guest-fs/mount/guest-mount.ts";
import { privateLvmConf } from "../guest-fs/mount/lvm.ts";
import { runTool } from "../run-tool.ts";

export interface LvSpec {
  name: string;
  sizeMiB: number;
  /** A second segment of this many MiB after every volume's first one (a volume lvextend grew later). */
  extendedMiB?: number;
}

function segment(n: number, start: number, count: number, pe: number): string {
  return `segment${n} {\nstart_extent = ${start}\nextent_count = ${count}\ntype = "striped"\nstripe_count = 1\nstripes = [\n"pv0", ${pe}\n]\n}`;
}

/** An LVM id: 32 characters from LVM's alphabet, grouped 6-4-4-4-4-4-6. */
function lvmId(): string {
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const s = [...randomBytes(32)].map((b) => abc[b % abc.length]).join("");
  return [6, 4, 4, 4, 4, 4, 6]
    .reduce<{ at: number; parts: string[] }>(
      (acc, n) => ({ at: acc.at + n, parts: [...acc.parts, s.slice(acc.at, acc.at + n)] }),
      { at: 0, parts: [] },
    )
    .parts.join("-");
}

/**
 * Makes partition `[offset, offset+bytes)` an LVM PV holding VG `vg` with the `volumes` laid out one
 * after the other (4 MiB extents; a volume's `extendedMiB` segment after all of them). Returns each
 * volume's first segment's byte range in the image, computed here from `pe_start`, for the test to
 * put filesystems in.
 */
export async function buildLvm(
  image: string,
  offset: number,
  bytes: number,
  vg: string,
  volumes: LvSpec[],
): Promise<Array<{ name: string; offset: number; bytes: number }>> {
  const m = new GuestMount(image, {});
  const dir = await mkdtemp(join(tmpdir(), "icaas-build-lvm-"));
  try {
    const dev = await m.device({ number: 0, offset, bytes, filesystem: { type: "lvm2" } });
    await writeFile(join(dir, "lvm.conf"), privateLvmConf(dev));
    const env = { LVM_SYSTEM_DIR: dir, LVM_SUPPRESS_FD_WARNINGS: "1" };
    await runTool("pvcreate", ["-q", dev], { env });
    await runTool("vgcreate", ["-q", "-s", "4m", vg, dev], { env });
    const backup = join(dir, "vg.txt");
    await runTool("vgcfgbackup", ["-f", backup, vg], { env });
    const peStart = Number(
      (
        await runTool("pvs", ["--noheadings", "-o", "pe_start", "--units", "b", "--nosuffix", dev], { env })
      ).stdout.trim(),
    );
    let pe = 0;
    const sections: string[] = [];
    const ranges: Array<{ name: string; offset: number; bytes: number }> = [];
    for (const v of volumes) {
      ranges.push({ name: v.name, offset: offset + peStart + pe * 4 * 1048576, bytes: v.sizeMiB * 1048576 });
      pe += v.sizeMiB / 4;
    }
    let firstPe = 0;
    for (const v of volumes) {
      const count = v.sizeMiB / 4;
      const segs = [segment(1, 0, count, firstPe)];
      firstPe += count;
      if (v.extendedMiB) {
        segs.push(segment(2, count, v.extendedMiB / 4, pe));
        pe += v.extendedMiB / 4;
      }
      sections.push(
        `${v.name} {\nid = "${lvmId()}"\nstatus = ["READ", "WRITE", "VISIBLE"]\nsegment_count = ${segs.length}\n${segs.join("\n")}\n}`,
      );
    }
    const text = await readFile(backup, "utf8");
    // The backup ends with the VG's closing brace: the volumes go just before it.
    const end = text.lastIndexOf("}");
    await writeFile(
      backup,
      `${text.slice(0, end)}\nlogical_volumes {\n${sections.join("\n")}\n}\n${text.slice(end)}`,
    );
    // Writes metadata only; it warns that it cannot check for active volumes without device-mapper.
    await runTool("vgcfgrestore", ["-f", backup, vg], { env });
    return ranges;
  } finally {
    await m.close();
    await rm(dir, { recursive: true, force: true });
  }
}
