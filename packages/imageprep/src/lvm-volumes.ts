/** @module lvm-volumes — the logical volumes of an LVM physical volume partition, each a byte range of the image when it is one linear segment. */
import { type FilesystemInfo, probeFilesystem } from "./fs-probe.ts";
import { GuestMount } from "./guest-fs/mount/guest-mount.ts";
import { linearRange, readVolumeGroup, type VolumeGroup } from "./guest-fs/mount/lvm.ts";
import type { Partition } from "./partitions.ts";

export interface InspectedPartition extends Partition {
  filesystem: FilesystemInfo;
}

/**
 * An LVM logical volume of one linear segment: a byte range of its physical volume's partition
 * (`number`), read and mounted like a partition. `offset` and `bytes` are its own.
 */
export interface InspectedVolume extends InspectedPartition {
  lvm: { vg: string; lv: string };
}

/**
 * The logical volumes of the LVM physical volume on `p`, read in a private LVM environment through a
 * read-only loop device; those that are not one linear segment come back as problems (they need
 * device-mapper).
 */
export async function lvmVolumes(
  image: string,
  p: InspectedPartition,
): Promise<{ volumes: InspectedVolume[]; problems: string[] }> {
  const mount = new GuestMount(image, { readOnly: true });
  let vg: VolumeGroup | undefined;
  try {
    vg = await readVolumeGroup(await mount.device(p));
  } finally {
    await mount.close();
  }
  if (!vg)
    return { volumes: [], problems: [`partition ${p.number} is an LVM physical volume in no volume group`] };
  const volumes: InspectedVolume[] = [];
  const problems: string[] = [];
  for (const lv of vg.volumes) {
    const r = linearRange(vg, lv);
    if (!r) {
      problems.push(
        `LVM volume ${vg.name}/${lv.name} is not one linear segment (it would need device-mapper)`,
      );
      continue;
    }
    const offset = p.offset + r.offset;
    const filesystem = await probeFilesystem(image, offset, r.bytes);
    volumes.push({ ...p, offset, bytes: r.bytes, filesystem, lvm: { vg: vg.name, lv: lv.name } });
  }
  return { volumes, problems };
}
