/**
 * @module bootable-source — the bootable, Bitnami-like Debian 12 test source (build-source.sh), built
 * once per version of its builder and cached: a second call, in this run or the next, is instant.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
/** The builder and the library it sources: a change to either makes a new source. */
export const BUILDER_FILES = [
  join(here, "build-source.sh"),
  join(here, "../../../scripts/lib/debian-disk.sh"),
];

/** A secret that preparation must remove: `marker` is written in the file at `path`. */
export interface SourceMarker {
  name: string;
  marker: string;
  path: string;
}

/** An SSH host key made at build time; a published image must hold none of its private bytes. */
export interface SourceHostKey {
  type: "rsa" | "ecdsa" | "ed25519";
  path: string;
  marker: string;
  /** `SHA256:…`, as `ssh-keygen -l -E sha256` prints it. */
  fingerprint: string;
  publicKey: string;
  /** The private key file's base64 body, its lines joined. */
  privateKeyBase64: string;
  /** The same body as the file's lines (each a string to search a disk for). */
  privateKeyLines: string[];
}

/** A partition of the source's disk (an LVM PV lists its volumes). */
export interface SourcePartition {
  number: number;
  startBytes: number;
  sizeBytes: number;
  /** What it is for; `bios-boot` (GRUB's core.img) has no filesystem, `lvm-pv` no mountpoint. */
  type: "root" | "boot" | "lvm-pv" | "efi" | "bios-boot";
  fsType?: string;
  fsUuid?: string;
  label?: string;
  mountpoint?: string;
  populatedBy: string;
  subvolume?: string;
  lvm?: {
    vg: string;
    volumes: Array<Omit<SourcePartition, "number" | "type" | "lvm" | "subvolume"> & { name: string }>;
  };
}

/** What build-source.sh writes beside the zip (see tests/vm/README.md). */
export interface SourceManifest {
  name: string;
  zip: string;
  /** The VMDK's path inside the zip. */
  vmdk: string;
  os: { family: "linux"; distro: "debian"; version: string; kernel: string; hostname: string };
  disk: {
    virtualBytes: number;
    rawAllocatedMiB: number;
    vmdkBytes: number;
    table: "msdos" | "gpt";
    bootloader: string;
    /** The partition holding `/` (the PV's, on LVM): ROOT_PARTITION. */
    rootPartition: number;
    partitions: SourcePartition[];
    /** Where `/` is: its partition (the PV's, on LVM), filesystem, and subvolume or LVM volume. */
    root: {
      partition: number;
      fsType: string;
      fsUuid: string;
      subvolume?: string;
      lvm?: { vg: string; lv: string };
    };
  };
  users: Array<{
    name: string;
    uid: number;
    password?: string;
    passwordHash?: string;
    sudo?: boolean;
    locked?: boolean;
    /** The private half of the key in the user's authorized_keys (OpenSSH format). */
    authorizedKeyPrivate?: string;
  }>;
  machineId: string;
  persistentNetRules: { path: string; mac: string };
  bitnami: { title: string; sshdNotToBeRun: string; changePasswordScript: string; welcome: string };
  markers: SourceMarker[];
  hostKeys: SourceHostKey[];
  builtAt: string;
  buildSeconds: number;
}

export interface BootableSource {
  /** The Bitnami-style zip: `<name>/<name>.vmdk` (streamOptimized), `.ovf`, `.mf`. */
  zip: string;
  manifestPath: string;
  manifest: SourceManifest;
}

/** Where built sources are kept: $ICAAS_VM_SOURCE_CACHE, else /var/cache/icaas/vm-source. */
export function sourceCacheRoot(): string {
  return process.env.ICAAS_VM_SOURCE_CACHE ?? "/var/cache/icaas/vm-source";
}

/** The content hash of the builder: the cache key of the source it makes. */
export function builderHash(): string {
  const hash = createHash("sha256");
  for (const file of BUILDER_FILES) hash.update(readFileSync(file));
  return hash.digest("hex").slice(0, 16);
}

/** A source unused this long belongs to an older builder nobody runs any more. */
const STALE_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes other builders' sources left untouched for a day. Younger ones stay: another checkout
 * (a worktree, a branch) on another version of the builder may be using them right now.
 */
function removeStaleSources(cacheRoot: string, key: string): void {
  for (const name of readdirSync(cacheRoot)) {
    if (!/^[0-9a-f]{16}(-|$)/.test(name) || name.startsWith(`${key}-`)) continue;
    const path = join(cacheRoot, name);
    if (Date.now() - statSync(path).mtimeMs > STALE_MS) rmSync(path, { recursive: true, force: true });
  }
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // The builder's progress goes to stderr: stdout belongs to the test runner.
    const child = spawn(command, args, { stdio: ["ignore", 2, 2] });
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} failed (${signal ?? code})`)),
    );
  });
}

/**
 * The source's layout: the root filesystem (btrfs: on subvolume @), in an LVM volume (debian-vg/root,
 * /boot on an ext4 partition 1) or not, on msdos (GRUB for BIOS in the MBR) or gpt (Debian's cloud
 * layout: root on partition 1, a BIOS boot partition 14 and an ESP 15 with GRUB for UEFI; ext4
 * without LVM only — build-source.sh refuses the others).
 */
export interface SourceVariant {
  fs?: "ext4" | "xfs" | "btrfs";
  lvm?: boolean;
  table?: "msdos" | "gpt";
}

/** The variant's name in cache paths and logs: `ext4-msdos`, `lvm-ext4-msdos`, … */
export function variantName(variant: SourceVariant = {}): string {
  return `${variant.lvm ? "lvm-" : ""}${variant.fs ?? "ext4"}-${variant.table ?? "msdos"}`;
}

/** The source of `variant` if this version of the builder made it already (never builds). */
export function cachedBootableSource(variant?: SourceVariant): BootableSource | undefined {
  const dir = join(sourceCacheRoot(), `${builderHash()}-${variantName(variant)}`);
  const zip = join(dir, "source.zip");
  const manifestPath = join(dir, "source.manifest.json");
  if (!existsSync(zip)) return undefined;
  return { zip, manifestPath, manifest: JSON.parse(readFileSync(manifestPath, "utf8")) as SourceManifest };
}

/**
 * The test source, built now (as root, about a minute with a warm debootstrap cache, three without)
 * unless this version of the builder made it before. Concurrent callers wait for one build.
 */
export async function ensureBootableSource(
  options: { cacheRoot?: string; bootCheck?: boolean; variant?: SourceVariant } = {},
): Promise<BootableSource> {
  const cacheRoot = options.cacheRoot ?? sourceCacheRoot();
  const fs = options.variant?.fs ?? "ext4";
  const table = options.variant?.table ?? "msdos";
  const key = builderHash();
  const dir = join(cacheRoot, `${key}-${variantName(options.variant)}`);
  const zip = join(dir, "source.zip");
  const manifestPath = join(dir, "source.manifest.json");
  if (!existsSync(zip)) {
    if (process.getuid?.() !== 0) throw new Error("building the bootable test source needs root");
    await mkdir(dir, { recursive: true });
    const builder = BUILDER_FILES[0] as string;
    const flags = [
      ...(options.bootCheck ? ["--boot-check"] : []),
      ...(options.variant?.lvm ? ["--lvm"] : []),
      "--fs",
      fs,
      "--table",
      table,
    ];
    // Under the lock, a build that finished meanwhile is not repeated.
    await run("flock", [
      join(cacheRoot, ".lock"),
      "sh",
      "-c",
      'zip=$1; shift; test -f "$zip" || exec bash "$@" "$zip"',
      "sh",
      zip,
      builder,
      ...flags,
    ]);
    removeStaleSources(cacheRoot, key);
  }
  // Marks the source as in use (removeStaleSources goes by the directory's age).
  utimesSync(dir, new Date(), new Date());
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as SourceManifest;
  return { zip, manifestPath, manifest };
}

/** Lines of the source's private host keys that no other key shares (an OpenSSH key's first line is a common header). */
function hostKeyLines(s: BootableSource): string[] {
  const all = s.manifest.hostKeys.flatMap((k) => k.privateKeyLines.slice(1));
  return all.filter((line) => line.length >= 40 && all.indexOf(line) === all.lastIndexOf(line));
}

/** Every string of the source that no published image may hold: markers, host private key lines, password hashes. */
export function sourceSecrets(s: BootableSource): string[] {
  return [
    ...s.manifest.markers.map((m) => m.marker),
    ...s.manifest.hostKeys.map((k) => k.marker),
    ...hostKeyLines(s),
    ...s.manifest.users.flatMap((u) => (u.passwordHash ? [u.passwordHash] : [])),
  ];
}
