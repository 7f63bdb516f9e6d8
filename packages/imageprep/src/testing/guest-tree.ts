/** @module testing/guest-tree — writes a guest root tree described in code (files, modes, owners, links) into a host directory. */
import { chmod, chown, lchown, mkdir, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/** A file's contents, or a file/dir/link with its mode and owner. */
export type TreeEntry =
  | string
  | Buffer
  | { data?: string | Buffer; dir?: boolean; link?: string; mode?: number; uid?: number; gid?: number };

/** Guest paths (absolute) to what they hold. */
export type GuestTree = Record<string, TreeEntry>;

/**
 * Writes `tree` under `root` (as root, so owners are real): parents are created root-owned 0755,
 * files default to 0644 root:root, links keep their targets verbatim.
 */
export async function writeTree(root: string, tree: GuestTree): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const [path, entry] of Object.entries(tree)) {
    const host = join(root, path);
    await mkdir(dirname(host), { recursive: true });
    const e = typeof entry === "string" || Buffer.isBuffer(entry) ? { data: entry } : entry;
    if (e.link !== undefined) {
      await symlink(e.link, host);
      await lchown(host, e.uid ?? 0, e.gid ?? 0);
      continue;
    }
    if (e.dir) await mkdir(host, { recursive: true });
    else await writeFile(host, e.data ?? "");
    await chmod(host, e.mode ?? (e.dir ? 0o755 : 0o644));
    await chown(host, e.uid ?? 0, e.gid ?? 0);
  }
}
