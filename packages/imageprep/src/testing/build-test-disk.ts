/** @module testing/build-test-disk — builds a small bootable-looking Linux disk image from a fixture tree in the repo. */
import {
  appendFile,
  chmod,
  cp,
  lchown,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runTool } from "../run-tool.ts";
import { type BuiltDisk, buildDisk, type PartitionSpec } from "./build-disk.ts";

/** The fixture trees shipped with this package. */
export const FIXTURES_DIR = fileURLToPath(new URL("../../test-fixtures/", import.meta.url));

/** Files a marker is appended to (when they exist): each is removed or emptied by a default task. */
const MARKER_FILES = [
  "/root/.bash_history",
  "/home/admin/.bash_history",
  "/home/bitnami/.bash_history",
  "/var/log/auth.log",
  "/etc/shadow-",
];

export interface TestDiskOptions {
  /** Where to write the raw image. */
  path: string;
  /** A directory name under `test-fixtures/` or an absolute path (default `debian12`). */
  fixture?: string;
  label?: "dos" | "gpt";
  /** A swap partition after the root (default true). */
  swap?: boolean;
  blockSize?: 1024 | 4096;
  /** Whole disk size in MiB (default 96). */
  diskMiB?: number;
  swapMiB?: number;
  /**
   * MBR only: `true` puts root and swap in an extended partition (5 and 6); `"swap"` keeps the root
   * primary and puts only the swap there (Debian's installer layout: 1, extended 2, swap 5).
   */
  logical?: boolean | "swap";
  /** GPT only: a 1 MiB BIOS boot partition first, so the root is partition 2. */
  biosBoot?: boolean;
  /** How the root is filled: `mkfs -d` (default) or a file-by-file `copy` with debugfs. */
  populate?: "mkfs" | "copy";
  /** `mkfs -O` features for the root (e.g. `^metadata_csum,^64bit`). */
  features?: string;
  /** Guest files to add or replace, by absolute guest path. */
  extraFiles?: Record<string, string | Buffer>;
  /** Guest paths to leave out of the fixture. */
  omit?: string[];
  /** A host directory merged into the root (large data for benchmarks). */
  extraTree?: string;
  /** A string appended to history, log and backup files that preparation must remove or empty. */
  marker?: string;
  /** The root's filesystem (default ext4). XFS and btrfs are made through a kernel mount (root only). */
  rootFs?: "ext4" | "xfs" | "btrfs";
  /** btrfs only: Ubuntu's layout, `/` in subvolume `@` and `/home` in `@home` (fstab `subvol=`). */
  btrfsSubvolumes?: boolean;
}

export interface TestDisk extends BuiltDisk {
  rootPartition: number;
  rootOffset: number;
  rootBytes: number;
  swapPartition?: number;
}

interface AttrRule {
  mode: number;
  uid: number;
  gid: number;
  path: string;
  dir: boolean;
}

interface LinkRule {
  path: string;
  target: string;
}

/** Reads `<fixture>.attrs`: modes and owners, directories git cannot keep, and symbolic links. */
async function readAttrs(fixtureDir: string): Promise<{ rules: AttrRule[]; links: LinkRule[] }> {
  let text: string;
  try {
    text = await readFile(`${fixtureDir.replace(/\/$/, "")}.attrs`, "utf8");
  } catch {
    return { rules: [], links: [] };
  }
  const rules: AttrRule[] = [];
  const links: LinkRule[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    if (line.startsWith("link ")) {
      const [, path, target] = line.split(/\s+/) as [string, string, string];
      links.push({ path, target });
      continue;
    }
    const [mode, uid, gid, path] = line.split(/\s+/) as [string, string, string, string];
    const dir = mode.startsWith("d");
    rules.push({
      mode: Number.parseInt(mode.replace(/^d/, ""), 8),
      uid: Number(uid),
      gid: Number(gid),
      path,
      dir,
    });
  }
  return { rules, links };
}

async function walkHost(
  root: string,
  rel = "",
): Promise<Array<{ path: string; type: "file" | "dir" | "symlink" }>> {
  const out: Array<{ path: string; type: "file" | "dir" | "symlink" }> = [];
  for (const name of await readdir(join(root, rel))) {
    const guest = `${rel}/${name}`;
    const st = await lstat(join(root, guest));
    const type = st.isSymbolicLink() ? "symlink" : st.isDirectory() ? "dir" : "file";
    out.push({ path: guest, type });
    if (type === "dir") out.push(...(await walkHost(root, guest)));
  }
  return out;
}

function q(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/**
 * Builds a disk image from a fixture tree: MBR or GPT, the root ext4 first (or after a BIOS boot
 * partition), an optional trailing swap partition, fstab device names matching the layout, and
 * owners/modes from `<fixture>.attrs` (everything else root-owned, whoever runs the build).
 *
 * @example
 * const disk = await buildTestDisk({ path: "/tmp/d.raw", label: "gpt", blockSize: 1024, marker: "SECRET-123" });
 * // disk.rootOffset is where the root filesystem starts
 */
/**
 * Copies a fixture (a directory name under `test-fixtures/` or an absolute path) to the host directory
 * `tree` with the symbolic links and empty directories its `.attrs` file lists (git keeps neither).
 * Returns the owner and mode rules, which the caller applies in the image.
 */
export async function copyFixtureTree(fixture: string, tree: string): Promise<AttrRule[]> {
  const fixtureDir = isAbsolute(fixture) ? fixture : join(FIXTURES_DIR, fixture);
  await cp(fixtureDir, tree, { recursive: true, verbatimSymlinks: true });
  const { rules, links } = await readAttrs(fixtureDir);
  for (const l of links) {
    await mkdir(dirname(join(tree, l.path)), { recursive: true });
    await symlink(l.target, join(tree, l.path));
  }
  for (const a of rules) if (a.dir) await mkdir(join(tree, a.path), { recursive: true });
  return rules;
}

export async function buildTestDisk(options: TestDiskOptions): Promise<TestDisk> {
  const label = options.label ?? "dos";
  const withSwap = options.swap ?? true;
  const diskMiB = options.diskMiB ?? 96;
  const swapMiB = withSwap ? (options.swapMiB ?? 16) : 0;
  const logical = label === "dos" && options.logical === true;
  const logicalSwap = label === "dos" && (options.logical === true || options.logical === "swap");
  const biosBoot = label === "gpt" && options.biosBoot === true;
  const fixture = options.fixture ?? "debian12";
  const fixtureDir = isAbsolute(fixture) ? fixture : join(FIXTURES_DIR, fixture);

  // Space the layout needs besides the root: the first MiB, EBRs, the backup GPT, BIOS boot, swap.
  let overhead = 1 + swapMiB;
  if (logical) overhead += 1;
  if (logicalSwap && withSwap) overhead += 1;
  if (label === "gpt") overhead += 1;
  if (biosBoot) overhead += 1;
  const rootMiB = diskMiB - overhead;
  const rootNumber = logical ? 5 : biosBoot ? 2 : 1;
  const swapNumber = logical ? 6 : logicalSwap ? 5 : rootNumber + 1;

  const work = await mkdtemp(join(tmpdir(), "icaas-testdisk-"));
  try {
    const tree = join(work, "root");
    const attrs = await copyFixtureTree(fixtureDir, tree);
    if (options.extraTree) await cp(options.extraTree, tree, { recursive: true, verbatimSymlinks: true });
    for (const p of options.omit ?? []) await rm(join(tree, p), { recursive: true, force: true });
    for (const [p, data] of Object.entries(options.extraFiles ?? {})) {
      await mkdir(dirname(join(tree, p)), { recursive: true });
      await rm(join(tree, p), { force: true });
      await writeFile(join(tree, p), data);
    }
    const fstab = join(tree, "etc/fstab");
    try {
      const text = await readFile(fstab, "utf8");
      await writeFile(
        fstab,
        text.replace(
          /^\/dev\/sda([12])(\s)/gm,
          (_m, n: string, sp: string) => `/dev/sda${n === "1" ? rootNumber : swapNumber}${sp}`,
        ),
      );
    } catch {
      // A fixture without fstab is an image without an OS, which some tests want.
    }
    if (options.marker) {
      for (const f of MARKER_FILES) {
        try {
          if ((await lstat(join(tree, f))).isFile()) await appendFile(join(tree, f), `${options.marker}\n`);
        } catch {
          // Not in this fixture.
        }
      }
      await mkdir(join(tree, "tmp"), { recursive: true });
      await writeFile(join(tree, "tmp/secret.txt"), `${options.marker}\n`);
    }
    const rootFs = options.rootFs ?? "ext4";
    const rules = new Map(attrs.map((a) => [a.path, a]));
    if (rootFs !== "ext4") {
      // Owners and modes go on the host tree, which cp -a carries into the mounted filesystem.
      await lchown(tree, 0, 0);
      for (const e of await walkHost(tree)) {
        const rule = rules.get(e.path);
        await lchown(join(tree, e.path), rule?.uid ?? 0, rule?.gid ?? 0);
        if (rule && e.type !== "symlink") await chmod(join(tree, e.path), rule.mode);
      }
      const subvol = rootFs === "btrfs" && options.btrfsSubvolumes;
      await writeFile(
        fstab,
        (await readFile(fstab, "utf8"))
          .replace(
            /^(\S+\s+\/\s+)ext4(\s+)(\S+)/m,
            (_m, a: string, b: string, o: string) => `${a}${rootFs}${b}${subvol ? `${o},subvol=@` : o}`,
          )
          .concat(subvol ? `/dev/sda${rootNumber} /home btrfs subvol=@home 0 0\n` : ""),
      );
    }

    const parts: PartitionSpec[] = [];
    if (biosBoot)
      parts.push({ sizeMiB: 1, fs: "none", type: "21686148-6449-6E6F-744E-656564454649", name: "bios" });
    const rootSpec: PartitionSpec = {
      sizeMiB: rootMiB,
      fs: rootFs,
      tree,
      blockSize: options.blockSize ?? 4096,
    };
    if (rootFs === "btrfs" && options.btrfsSubvolumes) {
      rootSpec.subvolumes = [
        { name: "@", from: "/" },
        { name: "@home", from: "/home" },
      ];
    }
    if (!logical) rootSpec.bootable = true;
    if (options.features) rootSpec.features = options.features;
    if (options.populate) rootSpec.populate = options.populate;
    if (label === "gpt") rootSpec.name = "root";
    parts.push({ ...rootSpec, logical });
    if (withSwap)
      parts.push({
        sizeMiB: swapMiB,
        fs: "swap",
        logical: logicalSwap,
        ...(label === "gpt" ? { name: "swap" } : {}),
      });
    const disk = await buildDisk(options.path, { label, sizeMiB: diskMiB, partitions: parts });
    const root = disk.partitions.find((p) => p.number === rootNumber);
    if (!root) throw new Error("root partition missing from the built disk");

    // Everything root-owned (mkfs copies the builder's own uid), then the fixture's own modes and owners.
    const cmds: string[] = ["sif / uid 0", "sif / gid 0"];
    for (const e of await walkHost(tree)) {
      const rule = rules.get(e.path);
      cmds.push(`sif ${q(e.path)} uid ${rule?.uid ?? 0}`, `sif ${q(e.path)} gid ${rule?.gid ?? 0}`);
      if (rule) {
        const typeBits = e.type === "dir" ? 0o040000 : e.type === "symlink" ? 0o120000 : 0o100000;
        cmds.push(`sif ${q(e.path)} mode 0${(typeBits | rule.mode).toString(8)}`);
      }
    }
    if (rootFs === "ext4") {
      await runTool("debugfs", ["-w", "-f", "-", `${options.path}?offset=${root.offset}`], {
        input: `${cmds.join("\n")}\n`,
      });
    }

    const result: TestDisk = {
      ...disk,
      rootPartition: rootNumber,
      rootOffset: root.offset,
      rootBytes: root.bytes,
    };
    if (withSwap) result.swapPartition = swapNumber;
    return result;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
