/** @module testing/build-lvm-test-disk — the Debian fixture with its root in an LVM volume, as Debian's installer lays it out: /boot on partition 1, root then swap_1 (then, optionally, a data volume) in VG testvg on partition 2. */
import { randomUUID } from "node:crypto";
import { appendFile, cp, mkdir, mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runTool } from "../run-tool.ts";
import { type BuiltDisk, buildDisk } from "./build-disk.ts";
import { buildLvm } from "./build-lvm.ts";
import { copyFixtureTree } from "./build-test-disk.ts";

export interface LvmTestDisk extends BuiltDisk {
  vg: string;
  /** The PV's partition (2, or 5 when logical); /boot is partition 1. */
  pvPartition: number;
  /** Where each volume lies in the image, by name. */
  volumes: Record<string, { offset: number; bytes: number }>;
  rootUuid: string;
  bootUuid: string;
  swapUuid: string;
  /** The data volume's file `/hello.txt` holds this. */
  dataText?: string;
}

export interface LvmTestDiskOptions {
  /** Root volume size (default 160 MiB). */
  rootMiB?: number;
  /** A `data` ext4 volume after swap_1, mounted at /srv, holding `/hello.txt`. */
  data?: boolean;
  /** Appended to /root/.bash_history (preparation removes it). */
  marker?: string;
  /** Free MiB left at the end of the PV (a multiple of 4). */
  freeMiB?: number;
  /** GPT instead of MBR (the PV's type is then Linux LVM's GUID). */
  gpt?: boolean;
  /** The PV in a logical partition (5, in extended 2), as Debian's installer puts it on MBR. */
  logical?: boolean;
  /** The root volume gets a second segment of this many MiB after the others (only its first is formatted). */
  rootExtendedMiB?: number;
}

async function mkfsExt4(
  image: string,
  offset: number,
  bytes: number,
  tree: string,
  uuid: string,
  label: string,
) {
  await runTool("mkfs.ext4", [
    "-q",
    "-F",
    "-L",
    label,
    "-U",
    uuid,
    "-d",
    tree,
    "-E",
    `offset=${offset}`,
    image,
    `${bytes / 1024}k`,
  ]);
}

/**
 * Builds the debian12 fixture on MBR: partition 1 an ext4 /boot (32 MiB), partition 2 an LVM PV whose
 * VG `testvg` holds `root` (ext4), `swap_1` (16 MiB, after root as the installer puts it) and, with
 * `data`, `data` (8 MiB ext4). fstab names the volumes by their /dev/mapper names, /boot by UUID.
 */
export async function buildLvmTestDisk(path: string, options: LvmTestDiskOptions = {}): Promise<LvmTestDisk> {
  const rootMiB = options.rootMiB ?? 160;
  const vg = "testvg";
  const specs = [
    { name: "root", sizeMiB: rootMiB, extendedMiB: options.rootExtendedMiB ?? 0 },
    { name: "swap_1", sizeMiB: 16 },
    ...(options.data ? [{ name: "data", sizeMiB: 8 }] : []),
  ];
  // pe_start (1 MiB) + the volumes + free extents.
  const pvMiB =
    1 + specs.reduce((n, s) => n + s.sizeMiB, 0) + (options.rootExtendedMiB ?? 0) + (options.freeMiB ?? 0);
  const work = await mkdtemp(join(tmpdir(), "icaas-lvmdisk-"));
  try {
    const tree = join(work, "root");
    const boot = join(work, "boot");
    await copyFixtureTree("debian12", tree);
    await cp(join(tree, "boot"), boot, { recursive: true });
    await rm(join(tree, "boot"), { recursive: true });
    await mkdir(join(tree, "boot"));
    const rootUuid = randomUUID();
    const bootUuid = randomUUID();
    const swapUuid = randomUUID();
    const dataUuid = randomUUID();
    await writeFile(
      join(tree, "etc/fstab"),
      [
        `/dev/mapper/${vg}-root / ext4 errors=remount-ro 0 1`,
        `UUID=${bootUuid} /boot ext4 defaults 0 2`,
        `/dev/mapper/${vg}-swap_1 none swap sw 0 0`,
        ...(options.data ? [`/dev/mapper/${vg}-data /srv ext4 defaults 0 2`] : []),
        "",
      ].join("\n"),
    );
    await mkdir(join(tree, "srv"), { recursive: true });
    if (options.marker) await appendFile(join(tree, "root/.bash_history"), `${options.marker}\n`);

    const disk = await buildDisk(path, {
      // The first MiB, /boot, the PV, 1 MiB spare (and the logical partition's EBR MiB).
      sizeMiB: 1 + 32 + pvMiB + 1 + (options.logical ? 1 : 0),
      label: options.gpt ? "gpt" : "dos",
      partitions: [
        { sizeMiB: 32, fs: "ext4", tree: boot, uuid: bootUuid, bootable: true },
        {
          sizeMiB: pvMiB,
          fs: "none",
          type: options.gpt ? "E6D6D379-F507-44C2-A23C-238F2A3DF928" : "8e",
          logical: options.logical ?? false,
        },
      ],
    });
    const pvPartition = options.logical ? 5 : 2;
    const pv = disk.partitions.find((x) => x.number === pvPartition) as BuiltDisk["partitions"][0];
    const ranges = await buildLvm(path, pv.offset, pv.bytes, vg, specs);
    const volumes = Object.fromEntries(ranges.map((r) => [r.name, { offset: r.offset, bytes: r.bytes }]));
    const root = volumes.root as { offset: number; bytes: number };
    await mkfsExt4(path, root.offset, root.bytes, tree, rootUuid, "root");

    // A swap header (mkswap on a file of the volume's size), with a known UUID and label.
    const swap = volumes.swap_1 as { offset: number; bytes: number };
    const swapFile = join(work, "swap");
    await runTool("truncate", ["-s", String(swap.bytes), swapFile]);
    await runTool("mkswap", ["-q", "-U", swapUuid, "-L", "swap1", swapFile]);
    const header = Buffer.alloc(4096);
    const src = await open(swapFile, "r");
    await src.read(header, 0, 4096, 0);
    await src.close();
    const dst = await open(path, "r+");
    await dst.write(header, 0, 4096, swap.offset);
    await dst.close();

    const result: LvmTestDisk = { ...disk, vg, pvPartition, volumes, rootUuid, bootUuid, swapUuid };
    if (options.data) {
      const data = join(work, "data");
      await mkdir(data);
      result.dataText = `data volume ${randomUUID()}\n`;
      await writeFile(join(data, "hello.txt"), result.dataText);
      const v = volumes.data as { offset: number; bytes: number };
      await mkfsExt4(path, v.offset, v.bytes, data, dataUuid, "data");
    }
    return result;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
