/** @module inspect — finds the root filesystem of a raw disk image and describes the OS on it, without a VM. */
import { open, stat } from "node:fs/promises";
import { type CloudInitInfo, inspectCloudInit } from "./cloud-init.ts";
import { compareVersions, type DistroInfo, detectDistro, RELEASE_FILES } from "./distro.ts";
import { ImagePrepError } from "./errors.ts";
import { type FilesystemInfo, isExt, probeFilesystem } from "./fs-probe.ts";
import type { GuestFs } from "./guest-fs/contract.ts";
import { withExtFs } from "./guest-fs/debugfs/debugfs-fs.ts";
import { findRootSubvolume } from "./guest-fs/mount/btrfs.ts";
import { fstabMounts, GuestMount, type GuestRoot, type MountSource } from "./guest-fs/mount/guest-mount.ts";
import { HostDirFs } from "./guest-fs/mount/host-dir-fs.ts";
import { type Backend, backendFor, withGuestFs } from "./guest-fs/open.ts";
import { type InspectedPartition, type InspectedVolume, lvmVolumes } from "./lvm-volumes.ts";
import { dataPartitions, type PartitionTable, readPartitionTable } from "./partitions.ts";
import { detectInit, type InitSystem, isServiceEnabled, readSshdConfig } from "./services.ts";
import { loginUsers } from "./users.ts";

export type { InspectedPartition, InspectedVolume };

export type PackageManager = "apt" | "dnf" | "yum" | "zypper" | "pacman";

/** The guest's OS: its distribution ({@link DistroInfo}) and what preparation needs to know of it. */
export interface OsInfo extends DistroInfo {
  /** Always `linux` for what this package can prepare. */
  type: "linux";
  hostname?: string;
  /** The newest kernel with a /boot/config-* file. */
  kernel?: string;
  /** Accounts that can log in (before any locking). */
  users: string[];
  init: InitSystem;
  packageManager?: PackageManager;
  sshd: { installed: boolean; enabled: boolean; port: number; permitRootLogin: string };
  networkManager: { installed: boolean; enabled: boolean };
  cloudInit: CloudInitInfo;
  /** Present when /opt/bitnami exists; `title` is the first line of its README.txt. */
  bitnami?: { title?: string };
}

export interface RootInfo {
  partition: number;
  offset: number;
  bytes: number;
  filesystem: FilesystemInfo;
  /** btrfs: the subvolume holding `/` ("" = the top level). */
  subvolume?: string;
  /** How it is read and edited: debugfs (ext, unmounted) or a kernel mount (also for an ext root whose fstab mounts other filesystems of the disk, e.g. /boot). */
  backend: Backend;
  /** The root is this LVM logical volume (on partition `partition`). */
  lvm?: { vg: string; lv: string };
}

export interface Inspection {
  image: string;
  /** Size of the image file in bytes. */
  size: number;
  partitionTable?: PartitionTable;
  partitions: InspectedPartition[];
  /** LVM logical volumes found on the physical-volume partitions. */
  volumes?: InspectedVolume[];
  root?: RootInfo;
  os?: OsInfo;
  /** Why the image cannot be prepared; absent when it can. */
  unsupported?: string;
}

/** Refuses files that are not raw disks: a qcow2 or VMDK must be converted first. */
async function assertRaw(image: string): Promise<number> {
  let size: number;
  try {
    const st = await stat(image);
    if (!st.isFile() && !st.isBlockDevice()) throw new Error("not a file");
    size = st.size;
  } catch (e) {
    throw new ImagePrepError("invalid_image", `cannot read image ${image}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const fh = await open(image, "r");
  try {
    const head = Buffer.alloc(64);
    await fh.read(head, 0, 64, 0);
    const magic = head.subarray(0, 8).toString("latin1");
    const formats: Array<[boolean, string]> = [
      [magic.startsWith("QFI\xfb"), "qcow2"],
      [magic.startsWith("KDMV") || head.toString("latin1").startsWith("# Disk DescriptorFile"), "vmdk"],
      [magic === "conectix", "vhd"],
      [magic === "vhdxfile", "vhdx"],
    ];
    for (const [hit, name] of formats) {
      if (hit)
        throw new ImagePrepError(
          "invalid_image",
          `${image} is a ${name} image; convert it to raw first (qemu-img convert -O raw)`,
        );
    }
  } finally {
    await fh.close();
  }
  if (size < 1 << 20)
    throw new ImagePrepError("invalid_image", `${image} is too small to be a disk image (${size} bytes)`);
  return size;
}

async function readKernel(fs: GuestFs): Promise<string | undefined> {
  const versions = (await fs.list("/boot"))
    .filter((e) => e.name.startsWith("config-") && e.type !== "dir")
    .map((e) => e.name.slice("config-".length));
  versions.sort(compareVersions);
  return versions.at(-1);
}

/** Whether sshd is installed and starts at boot, and the port and root policy it would use. */
export async function sshdState(fs: GuestFs, init: InitSystem): Promise<OsInfo["sshd"]> {
  const config = await readSshdConfig(fs);
  const installed = (await fs.isFile("/usr/sbin/sshd")) || (await fs.isFile("/sbin/sshd"));
  // Bitnami's own switch: ssh.service does not start while this file exists (current Debian images).
  const blocked = await fs.isFile("/etc/ssh/sshd_not_to_be_run");
  const enabled = installed && !blocked && (await isServiceEnabled(fs, "sshd", init));
  return { installed, enabled, port: config.port, permitRootLogin: config.permitRootLogin };
}

/**
 * Describes the OS whose root filesystem `fs` is: distribution and version, kernel, users who can log
 * in, init system, sshd, NetworkManager, cloud-init and Bitnami.
 */
export async function inspectOs(fs: GuestFs): Promise<OsInfo> {
  const names = [...RELEASE_FILES, "/etc/hostname", "/etc/passwd", "/etc/shadow", "/opt/bitnami/README.txt"];
  const texts = await fs.readTexts(names);
  const files: Record<string, string | undefined> = {};
  names.forEach((n, i) => {
    files[n] = texts[i];
  });
  const distro = detectDistro(files);
  const init = await detectInit(fs);
  const nmInstalled =
    (await fs.isFile("/usr/sbin/NetworkManager")) || (await fs.isFile("/usr/bin/NetworkManager"));
  const nmEnabled = nmInstalled && (await isServiceEnabled(fs, "NetworkManager", init));
  let packageManager: PackageManager | undefined;
  if (distro.family === "debian") packageManager = "apt";
  else if (distro.family === "rhel") packageManager = (await fs.isFile("/usr/bin/dnf")) ? "dnf" : "yum";
  else if (distro.family === "suse") packageManager = "zypper";
  else if (distro.family === "arch") packageManager = "pacman";

  const os: OsInfo = {
    type: "linux",
    distro: distro.distro,
    family: distro.family,
    version: distro.version,
    major: distro.major,
    minor: distro.minor,
    description: distro.description,
    users: loginUsers(files["/etc/passwd"] ?? "", files["/etc/shadow"] ?? ""),
    init,
    sshd: await sshdState(fs, init),
    networkManager: { installed: nmInstalled, enabled: nmEnabled },
    cloudInit: await inspectCloudInit(fs, init),
  };
  const hostname = files["/etc/hostname"]?.split("\n")[0]?.trim();
  if (hostname) os.hostname = hostname;
  const kernel = await readKernel(fs);
  if (kernel) os.kernel = kernel;
  if (packageManager) os.packageManager = packageManager;
  if (await fs.isDir("/opt/bitnami")) {
    const title = files["/opt/bitnami/README.txt"]?.split("\n")[0]?.trim();
    os.bitnami = title ? { title } : {};
  }
  return os;
}

function listNumbers(ns: number[]): string {
  if (ns.length <= 1) return ns.join("");
  return `${ns.slice(0, -1).join(", ")} and ${ns.at(-1)}`;
}

/** Why a disk with these partitions and candidate roots cannot be prepared, if it cannot. */
function unsupportedReason(
  partitions: InspectedPartition[],
  roots: InspectedPartition[],
  lvmProblems: string[],
): string | undefined {
  if (roots.length > 1) {
    return `several operating systems found (partitions ${listNumbers(roots.map((p) => p.number))} each hold /etc/fstab); only one is supported`;
  }
  if (roots.length === 1) return undefined;
  if (lvmProblems.length > 0) return `no readable root filesystem: ${lvmProblems.join("; ")}`;
  const luks = partitions.filter((p) => p.filesystem.type === "luks");
  if (luks.length > 0)
    return `partition ${listNumbers(luks.map((p) => p.number))} is encrypted (LUKS); no readable root filesystem`;
  const foreign = partitions.filter((p) => ["ntfs"].includes(p.filesystem.type));
  if (foreign.length > 0) {
    const what = foreign.map((p) => `partition ${p.number} holds ${p.filesystem.type}`).join(", ");
    return `no Linux root filesystem found (${what}); only ext2/3/4, XFS and btrfs roots are supported`;
  }
  return "no operating system found: no ext2/3/4, XFS or btrfs partition holds /etc/fstab";
}

/**
 * Whether partition `p` holds a root filesystem (one with /etc/fstab): read through debugfs for ext,
 * else mounted read-only (btrfs: the subvolume that holds it). Undefined when it does not.
 */
async function findRoot(
  image: string,
  p: InspectedPartition,
): Promise<(InspectedPartition & { subvolume?: string }) | undefined> {
  const type = p.filesystem.type;
  if (isExt(type)) return (await withExtFs(image, p.offset, (fs) => fs.isFile("/etc/fstab"))) ? p : undefined;
  if (type !== "xfs" && type !== "btrfs") return undefined;
  const mount = new GuestMount(image, { readOnly: true });
  try {
    const dir = await mount.newDir("probe");
    await mount.mount(p, dir, "/");
    const top = new HostDirFs(dir, image, p.offset);
    if (type === "xfs") return (await top.isFile("/etc/fstab")) ? p : undefined;
    const subvolume = await findRootSubvolume(top, dir);
    return subvolume === undefined ? undefined : { ...p, subvolume };
  } finally {
    await mount.close();
  }
}

/** Everything that can be mounted: the partitions and the LVM volumes, as the backends take them. */
export function mountSources(inspection: Inspection): MountSource[] {
  return [...inspection.partitions, ...(inspection.volumes ?? [])];
}

/** The root of an inspection in the shape the backends take. */
export function guestRoot(inspection: Inspection): GuestRoot {
  const root = inspection.root as RootInfo;
  const part = mountSources(inspection).find((p) => p.offset === root.offset) as
    | InspectedPartition
    | undefined;
  const out: GuestRoot = {
    number: root.partition,
    offset: root.offset,
    bytes: root.bytes,
    filesystem: root.filesystem,
  };
  if (part?.uuid) out.uuid = part.uuid;
  if (root.subvolume !== undefined) out.subvolume = root.subvolume;
  if (root.lvm) out.lvm = root.lvm;
  if (root.backend === "mount" && isExt(root.filesystem.type)) out.mountsOthers = true;
  return out;
}

/** Whether the fstab of an ext root (read through debugfs) mounts other filesystems of the disk. */
async function extRootMountsOthers(image: string, root: GuestRoot, sources: MountSource[]): Promise<boolean> {
  const fstab = await withExtFs(image, root.offset, (fs) => fs.readText("/etc/fstab"));
  return fstabMounts(fstab ?? "", root, sources).length > 0;
}

/**
 * Reads the partition table, identifies each partition's filesystem, finds the root (the ext, XFS or
 * btrfs filesystem with /etc/fstab; XFS and btrfs are mounted read-only to look) and describes its OS. Never modifies the image. An image that cannot be
 * prepared comes back with `unsupported` set; a file that is not a raw disk throws `invalid_image`.
 *
 * @example
 * const i = await inspectImage("disk.raw");
 * if (i.unsupported) console.log("cannot prepare:", i.unsupported);
 * else console.log(i.os?.distro, i.os?.version, "root on partition", i.root?.partition);
 */
export async function inspectImage(
  image: string,
  options: { signal?: AbortSignal } = {},
): Promise<Inspection> {
  const size = await assertRaw(image);
  const table = await readPartitionTable(image, options.signal).catch((e: unknown) => {
    if (e instanceof ImagePrepError && e.code === "unsupported_image") return e;
    throw e;
  });
  if (table instanceof ImagePrepError) return { image, size, partitions: [], unsupported: table.message };
  if (!table) {
    const whole = await probeFilesystem(image, 0, size);
    const what = whole.type === "unknown" ? "nothing recognisable" : `a bare ${whole.type} filesystem`;
    return {
      image,
      size,
      partitions: [],
      unsupported: `the disk has no partition table (it holds ${what}); MBR or GPT is required`,
    };
  }
  const partitions: InspectedPartition[] = [];
  for (const p of dataPartitions(table)) {
    const filesystem = await probeFilesystem(image, p.offset, p.bytes);
    partitions.push({ ...p, filesystem });
  }
  const volumes: InspectedVolume[] = [];
  const lvmProblems: string[] = [];
  for (const p of partitions.filter((x) => x.filesystem.type === "lvm2")) {
    const found = await lvmVolumes(image, p);
    volumes.push(...found.volumes);
    lvmProblems.push(...found.problems);
  }
  const roots: Array<InspectedPartition & { subvolume?: string; lvm?: { vg: string; lv: string } }> = [];
  for (const p of [...partitions, ...volumes]) {
    options.signal?.throwIfAborted();
    const found = await findRoot(image, p);
    if (found) roots.push(found);
  }
  const inspection: Inspection = { image, size, partitionTable: table, partitions };
  if (volumes.length > 0) inspection.volumes = volumes;
  const reason = unsupportedReason(partitions, roots, lvmProblems);
  if (reason) inspection.unsupported = reason;
  const root = roots[0];
  if (roots.length === 1 && root) {
    const mountsOthers =
      isExt(root.filesystem.type) && (await extRootMountsOthers(image, root, [...partitions, ...volumes]));
    inspection.root = {
      partition: root.number,
      offset: root.offset,
      bytes: root.bytes,
      filesystem: root.filesystem,
      backend: backendFor({ ...root, mountsOthers }),
    };
    if (root.subvolume !== undefined) inspection.root.subvolume = root.subvolume;
    if (root.lvm) inspection.root.lvm = root.lvm;
    inspection.os = await withGuestFs(
      image,
      guestRoot(inspection),
      mountSources(inspection),
      { readOnly: true, signal: options.signal },
      (fs) => inspectOs(fs),
    );
  }
  return inspection;
}
