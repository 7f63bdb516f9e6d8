/** @module testing/build-family-disk — RHEL-family and SUSE test disks: their fixture trees on real XFS and btrfs in a partitioned raw image. */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BuiltDisk, buildDisk } from "./build-disk.ts";
import { buildFilesystem } from "./build-fs.ts";
import { buildLvm } from "./build-lvm.ts";
import { rhelTree, suseTree } from "./family-trees.ts";
import { writeTree } from "./guest-tree.ts";

export interface FamilyDisk extends BuiltDisk {
  rootUuid: string;
  /** RHEL: the separate /boot filesystem. */
  bootUuid?: string;
  /** `rhel-lvm`: where the rl/root volume lies in the image. */
  rootVolume?: { offset: number; bytes: number };
}

/**
 * `rhel`: MBR, partition 1 the XFS root, 2 an XFS /boot, 3 swap (Rocky's cloud layout, by UUID).
 * `rhel-lvm`: MBR, partition 1 the XFS /boot, 2 an LVM PV with rl/root (XFS) and rl/swap.
 * `suse`: MBR, partition 1 btrfs with openSUSE's subvolumes (root in the default snapshot, /var and
 * /home apart), 2 swap.
 */
export async function buildFamilyDisk(
  path: string,
  family: "rhel" | "suse" | "rhel-lvm",
  marker: string,
): Promise<FamilyDisk> {
  const work = await mkdtemp(join(tmpdir(), "icaas-family-"));
  try {
    const rootUuid = randomUUID();
    const root = join(work, "root");
    if (family !== "suse") {
      const bootUuid = randomUUID();
      const boot = join(work, "boot");
      const trees = rhelTree({ rootUuid, bootUuid, marker, lvm: family === "rhel-lvm" });
      await writeTree(root, trees.root);
      await writeTree(boot, trees.boot);
      if (family === "rhel") {
        const disk = await buildDisk(path, {
          label: "dos",
          sizeMiB: 420,
          partitions: [
            { sizeMiB: 320, fs: "xfs", tree: root, uuid: rootUuid, bootable: true },
            { sizeMiB: 64, fs: "xfs", tree: boot, uuid: bootUuid },
            { sizeMiB: 16, fs: "swap" },
          ],
        });
        return { ...disk, rootUuid, bootUuid };
      }
      const disk = await buildDisk(path, {
        label: "dos",
        sizeMiB: 420,
        partitions: [
          { sizeMiB: 64, fs: "xfs", tree: boot, uuid: bootUuid, bootable: true },
          { sizeMiB: 341, fs: "none", type: "8e" },
        ],
      });
      const pv = disk.partitions[1] as BuiltDisk["partitions"][0];
      const [lvRoot] = await buildLvm(path, pv.offset, pv.bytes, "rl", [
        { name: "root", sizeMiB: 320 },
        { name: "swap", sizeMiB: 16 },
      ]);
      const lv = lvRoot as { offset: number; bytes: number };
      await buildFilesystem(path, lv.offset, lv.bytes, { type: "xfs", tree: root, uuid: rootUuid });
      return { ...disk, rootUuid, bootUuid, rootVolume: lv };
    }
    await writeTree(root, suseTree({ rootUuid, marker }));
    const snapshot = "@/.snapshots/1/snapshot";
    const disk = await buildDisk(path, {
      label: "dos",
      // Above the 256 MiB below which the kernel will not resize btrfs, so shrink has room to work.
      sizeMiB: 420,
      partitions: [
        {
          sizeMiB: 400,
          fs: "btrfs",
          tree: root,
          uuid: rootUuid,
          bootable: true,
          subvolumes: [
            { name: "@" },
            { name: "@/var", from: "/var" },
            { name: "@/home", from: "/home" },
            { name: "@/.snapshots" },
            { name: snapshot, from: "/" },
          ],
          defaultSubvolume: snapshot,
        },
        { sizeMiB: 16, fs: "swap" },
      ],
    });
    return { ...disk, rootUuid };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
