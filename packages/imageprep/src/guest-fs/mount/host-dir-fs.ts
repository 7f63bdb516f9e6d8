/** @module guest-fs/mount/host-dir-fs — the {@link GuestFs} of a guest tree mounted on the host, every path resolved inside the guest. */
import { constants, type Stats } from "node:fs";
import {
  chmod,
  chown,
  lchown,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  rename,
  rm,
  symlink,
  truncate,
  unlink,
} from "node:fs/promises";
import { join } from "node:path";
import { ImagePrepError } from "../../errors.ts";
import {
  baseOf,
  type DirEntry,
  type ExtStat,
  type GuestFs,
  joinGuest,
  normalizeGuestPath,
  type Ownership,
  parentOf,
  resolveGuestPath,
  typeOf,
  type WalkEntry,
} from "../contract.ts";

function statOf(st: Stats): ExtStat {
  return {
    inode: st.ino,
    type: typeOf(st.mode),
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    size: st.size,
  };
}

async function lstatOrUndefined(host: string): Promise<Stats | undefined> {
  try {
    return await lstat(host);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR")
      return undefined;
    throw e;
  }
}

/**
 * A guest tree under host directory `root`. Each path is resolved component by component with
 * lstat/readlink and the guest's own rules (an absolute link is the guest's `/`), so a hostile
 * image's links can never reach host files; files are opened with O_NOFOLLOW besides.
 */
export class HostDirFs implements GuestFs {
  readonly backend = "mount";
  readonly image: string;
  readonly offset: number;
  readonly root: string;

  constructor(root: string, image: string, offset: number) {
    this.root = root;
    this.image = image;
    this.offset = offset;
  }

  /** The host path of a real (link-free) guest path. */
  private host(real: string): string {
    return join(this.root, real);
  }

  private resolve(path: string, followLast: boolean): Promise<{ path: string; exists: boolean }> {
    return resolveGuestPath(
      {
        entryType: async (dir, name) => {
          const st = await lstatOrUndefined(this.host(joinGuest(dir, name)));
          return st ? typeOf(st.mode) : undefined;
        },
        linkTarget: (p) => readlink(this.host(p)),
      },
      path,
      followLast,
    );
  }

  private async statReal(real: string): Promise<ExtStat | undefined> {
    const st = await lstatOrUndefined(this.host(real));
    return st ? statOf(st) : undefined;
  }

  async lstat(path: string): Promise<ExtStat | undefined> {
    const r = await this.resolve(path, false);
    return r.exists ? this.statReal(r.path) : undefined;
  }

  async stat(path: string): Promise<ExtStat | undefined> {
    const r = await this.resolve(path, true);
    return r.exists ? this.statReal(r.path) : undefined;
  }

  async isFile(path: string): Promise<boolean> {
    return (await this.stat(path))?.type === "file";
  }

  async isDir(path: string): Promise<boolean> {
    return (await this.stat(path))?.type === "dir";
  }

  async realpath(path: string): Promise<string | undefined> {
    const r = await this.resolve(path, true);
    return r.exists ? r.path : undefined;
  }

  async readlink(path: string): Promise<string> {
    const r = await this.resolve(path, false);
    const st = r.exists ? await this.statReal(r.path) : undefined;
    if (st?.type !== "symlink")
      throw new ImagePrepError("not_found", `${path} is not a symbolic link in the guest`);
    return readlink(this.host(r.path));
  }

  async readFile(path: string): Promise<Buffer> {
    const r = await this.resolve(path, true);
    const st = r.exists ? await this.statReal(r.path) : undefined;
    // Only regular files: a FIFO or device node in the guest would block or read the host's device.
    if (st?.type !== "file")
      throw new ImagePrepError("not_found", `${path} does not exist in the guest (or is not a regular file)`);
    const fh = await open(this.host(r.path), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  }

  async readText(path: string): Promise<string | undefined> {
    try {
      return (await this.readFile(path)).toString("utf8");
    } catch (e) {
      if (e instanceof ImagePrepError && e.code === "not_found") return undefined;
      throw e;
    }
  }

  async readTexts(paths: string[]): Promise<Array<string | undefined>> {
    const out: Array<string | undefined> = [];
    for (const p of paths) out.push(await this.readText(p));
    return out;
  }

  private async listReal(real: string): Promise<DirEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.host(real));
    } catch {
      return [];
    }
    const out: DirEntry[] = [];
    for (const name of names) {
      const st = await lstatOrUndefined(this.host(joinGuest(real, name)));
      if (st) out.push({ name, ...statOf(st) });
    }
    return out;
  }

  async list(dir: string): Promise<DirEntry[]> {
    const r = await this.resolve(dir, true);
    if (!r.exists || (await this.statReal(r.path))?.type !== "dir") return [];
    return this.listReal(r.path);
  }

  async walk(dir: string, options: { maxDepth?: number } = {}): Promise<WalkEntry[]> {
    const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
    const r = await this.resolve(dir, true);
    if (!r.exists) return [];
    const out: WalkEntry[] = [];
    let level = [r.path];
    for (let depth = 1; level.length > 0 && depth <= maxDepth; depth++) {
      const next: string[] = [];
      for (const d of level) {
        for (const e of await this.listReal(d)) {
          const path = joinGuest(d, e.name);
          out.push({ ...e, path });
          if (e.type === "dir") next.push(path);
        }
      }
      level = next;
    }
    return out;
  }

  private async writeTarget(path: string): Promise<{ path: string; existing: ExtStat | undefined }> {
    const r = await this.resolve(path, true);
    if (r.exists) return { path: r.path, existing: await this.statReal(r.path) };
    const norm = normalizeGuestPath(path);
    const parent = await this.resolve(parentOf(norm), true);
    const pst = parent.exists ? await this.statReal(parent.path) : undefined;
    if (pst?.type !== "dir")
      throw new ImagePrepError("not_found", `the directory of ${path} does not exist in the guest`);
    return { path: joinGuest(parent.path, baseOf(norm)), existing: undefined };
  }

  async writeFile(path: string, data: string | Buffer, ownership: Ownership = {}): Promise<void> {
    const { path: real, existing } = await this.writeTarget(path);
    if (existing && existing.type !== "file") {
      throw new ImagePrepError(
        "invalid_option",
        `cannot write ${path}: it is a ${existing.type} in the guest`,
      );
    }
    const host = this.host(real);
    // Rewritten in place (O_TRUNC): same inode, so owner, mode and SELinux labels stay.
    const fh = await open(
      host,
      constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
      ownership.mode ?? 0o644,
    );
    try {
      await fh.writeFile(data);
    } finally {
      await fh.close();
    }
    if (!existing || ownership.mode !== undefined) await chmod(host, ownership.mode ?? 0o644);
    if (!existing || ownership.uid !== undefined || ownership.gid !== undefined) {
      await chown(host, ownership.uid ?? existing?.uid ?? 0, ownership.gid ?? existing?.gid ?? 0);
    }
  }

  async truncate(path: string): Promise<void> {
    await this.truncateFiles([path]);
  }

  async truncateFiles(paths: string[]): Promise<void> {
    for (const path of paths) {
      const r = await this.resolve(path, true);
      const st = r.exists ? await this.statReal(r.path) : undefined;
      if (st?.type !== "file")
        throw new ImagePrepError("not_found", `${path} is not a regular file in the guest`);
      if (st.size > 0) await truncate(this.host(r.path), 0);
    }
  }

  async remove(path: string): Promise<boolean> {
    const r = await this.resolve(path, false);
    const st = r.exists ? await this.statReal(r.path) : undefined;
    if (!st) return false;
    if (st.type === "dir")
      throw new ImagePrepError("invalid_option", `${path} is a directory; use removeTrees`);
    await unlink(this.host(r.path));
    return true;
  }

  async removeTrees(paths: string[]): Promise<number> {
    let count = 0;
    for (const p of paths) {
      const r = await this.resolve(p, false);
      const st = r.exists ? await this.statReal(r.path) : undefined;
      if (!st || r.path === "/") continue;
      count += st.type === "dir" ? (await this.walk(r.path)).length + 1 : 1;
      // rm never follows links while recursing.
      await rm(this.host(r.path), { recursive: true, force: true });
    }
    return count;
  }

  async mkdir(path: string, ownership: Ownership & { parents?: boolean } = {}): Promise<void> {
    const norm = normalizeGuestPath(path);
    const r = await this.resolve(norm, true);
    if (r.exists) {
      if ((await this.statReal(r.path))?.type === "dir") return;
      throw new ImagePrepError("invalid_option", `cannot create directory ${path}: a file is in the way`);
    }
    const parent = parentOf(norm);
    if (!(await this.isDir(parent))) {
      if (!ownership.parents)
        throw new ImagePrepError("not_found", `the directory of ${path} does not exist in the guest`);
      await this.mkdir(parent, { parents: true });
    }
    const { path: real } = await this.writeTarget(norm);
    const host = this.host(real);
    await mkdir(host);
    await chmod(host, ownership.mode ?? 0o755);
    await chown(host, ownership.uid ?? 0, ownership.gid ?? 0);
  }

  async symlink(path: string, target: string, ownership: Pick<Ownership, "uid" | "gid"> = {}): Promise<void> {
    if (/[\n\r\0]/.test(target))
      throw new ImagePrepError("invalid_option", "link target holds a control character");
    const r = await this.resolve(path, false);
    if (r.exists) throw new ImagePrepError("invalid_option", `cannot create link ${path}: it exists`);
    const { path: real } = await this.writeTarget(path);
    await symlink(target, this.host(real));
    await lchown(this.host(real), ownership.uid ?? 0, ownership.gid ?? 0);
  }

  async chmod(path: string, mode: number): Promise<void> {
    const r = await this.resolve(path, true);
    if (!r.exists) throw new ImagePrepError("not_found", `${path} does not exist in the guest`);
    await chmod(this.host(r.path), mode & 0o7777);
  }

  async chown(path: string, uid: number, gid: number): Promise<void> {
    const r = await this.resolve(path, true);
    if (!r.exists) throw new ImagePrepError("not_found", `${path} does not exist in the guest`);
    await lchown(this.host(r.path), uid, gid);
  }

  async rename(from: string, to: string): Promise<void> {
    const src = await this.resolve(from, false);
    if (!src.exists) throw new ImagePrepError("not_found", `${from} does not exist in the guest`);
    const dst = await this.resolve(to, false);
    const real = dst.exists ? dst.path : (await this.writeTarget(to)).path;
    if (dst.exists && (await this.statReal(dst.path))?.type === "dir")
      throw new ImagePrepError("invalid_option", `cannot replace directory ${to}`);
    await rename(this.host(src.path), this.host(real));
  }

  async close(): Promise<void> {
    // The mount belongs to whoever mounted it (see mountGuest); nothing is held here.
  }
}
