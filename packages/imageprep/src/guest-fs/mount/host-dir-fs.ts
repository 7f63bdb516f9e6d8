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
  type DirEntry,
  type EntryType,
  type ExtStat,
  joinGuest,
  type Ownership,
  typeOf,
} from "../contract.ts";
import { ResolvingGuestFs } from "../resolving-fs.ts";

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
export class HostDirFs extends ResolvingGuestFs {
  readonly backend = "mount";
  readonly root: string;

  constructor(root: string, image: string, offset: number) {
    super(image, offset);
    this.root = root;
  }

  /** The host path of a real (link-free) guest path. */
  private host(real: string): string {
    return join(this.root, real);
  }

  protected async entryType(dir: string, name: string): Promise<EntryType | undefined> {
    const st = await lstatOrUndefined(this.host(joinGuest(dir, name)));
    return st ? typeOf(st.mode) : undefined;
  }

  protected linkTarget(real: string): Promise<string> {
    return readlink(this.host(real));
  }

  protected async statReal(real: string): Promise<ExtStat | undefined> {
    const st = await lstatOrUndefined(this.host(real));
    return st ? statOf(st) : undefined;
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

  protected async listReals(dirs: string[]): Promise<DirEntry[][]> {
    const out: DirEntry[][] = [];
    for (const d of dirs) out.push(await this.listReal(d));
    return out;
  }

  async writeFile(path: string, data: string | Buffer, ownership: Ownership = {}): Promise<void> {
    const { path: real, existing } = await this.fileWriteTarget(path);
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

  async truncateFiles(paths: string[]): Promise<void> {
    for (const path of paths) {
      const { path: real, st } = await this.regularFile(path);
      if (st.size > 0) await truncate(this.host(real), 0);
    }
  }

  protected async removeReal(real: string): Promise<void> {
    await unlink(this.host(real));
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

  protected async makeDir(real: string, ownership: Ownership): Promise<void> {
    const host = this.host(real);
    await mkdir(host);
    await chmod(host, ownership.mode ?? 0o755);
    await chown(host, ownership.uid ?? 0, ownership.gid ?? 0);
  }

  protected async makeSymlink(
    real: string,
    target: string,
    ownership: Pick<Ownership, "uid" | "gid">,
  ): Promise<void> {
    await symlink(target, this.host(real));
    await lchown(this.host(real), ownership.uid ?? 0, ownership.gid ?? 0);
  }

  async chmod(path: string, mode: number): Promise<void> {
    const r = await this.resolve(path, true);
    if (!r.exists) throw new ImagePrepError("not_found", `${path} does not exist in the guest`);
    await chmod(this.host(r.path), mode & 0o7777);
  }

  protected async chownReal(real: string, uid: number, gid: number): Promise<void> {
    await lchown(this.host(real), uid, gid);
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
