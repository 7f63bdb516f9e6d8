/**
 * @module guest-fs/resolving-fs — the part of a {@link GuestFs} that is the same on every backend:
 * guest paths resolved by the guest's rules, the checks before each edit, and walking. A backend
 * supplies a few primitives on real (link-free) guest paths.
 */
import { ImagePrepError } from "../errors.ts";
import {
  baseOf,
  type DirEntry,
  type EntryType,
  type ExtStat,
  type GuestFs,
  joinGuest,
  normalizeGuestPath,
  type Ownership,
  parentOf,
  resolveGuestPath,
  type WalkEntry,
} from "./contract.ts";

export abstract class ResolvingGuestFs implements GuestFs {
  abstract readonly backend: GuestFs["backend"];
  readonly image: string;
  readonly offset: number;

  constructor(image: string, offset: number) {
    this.image = image;
    this.offset = offset;
  }

  /** The type of entry `name` in real directory `dir`; undefined when missing. */
  protected abstract entryType(dir: string, name: string): Promise<EntryType | undefined>;
  /** The target of the symbolic link at a real path. */
  protected abstract linkTarget(real: string): Promise<string>;
  /** The entry at a real path itself; undefined when missing. */
  protected abstract statReal(real: string): Promise<ExtStat | undefined>;
  /** The entries (without `.` and `..`) of each real directory, in order; empty for one missing. */
  protected abstract listReals(dirs: string[]): Promise<DirEntry[][]>;
  /** Creates directory `real`, whose parent exists. */
  protected abstract makeDir(real: string, ownership: Ownership): Promise<void>;
  /** Creates link `real` to `target`, whose parent exists. */
  protected abstract makeSymlink(
    real: string,
    target: string,
    ownership: Pick<Ownership, "uid" | "gid">,
  ): Promise<void>;
  /** Removes the file or link at `real`. */
  protected abstract removeReal(real: string): Promise<void>;
  /** Sets the owner of `real`. */
  protected abstract chownReal(real: string, uid: number, gid: number): Promise<void>;

  abstract readFile(path: string): Promise<Buffer>;
  abstract readText(path: string): Promise<string | undefined>;
  abstract readTexts(paths: string[]): Promise<Array<string | undefined>>;
  abstract writeFile(path: string, data: string | Buffer, ownership?: Ownership): Promise<void>;
  abstract truncateFiles(paths: string[]): Promise<void>;
  abstract removeTrees(paths: string[]): Promise<number>;
  abstract chmod(path: string, mode: number): Promise<void>;
  abstract rename(from: string, to: string): Promise<void>;
  abstract close(): Promise<void>;

  /**
   * Called before `path` is resolved: a backend whose lookups are costly may fetch at once what the
   * resolver would ask for one directory at a time. What it keeps must be true of real paths.
   */
  protected async prefetch(_path: string): Promise<void> {}

  protected async resolve(path: string, followLast: boolean): Promise<{ path: string; exists: boolean }> {
    await this.prefetch(path);
    return resolveGuestPath(
      {
        entryType: (dir, name) => this.entryType(dir, name),
        linkTarget: (p) => this.linkTarget(p),
      },
      path,
      followLast,
    );
  }

  /** The real path of a regular file (links followed) and its stat; throws `not_found` otherwise. */
  protected async regularFile(path: string): Promise<{ path: string; st: ExtStat }> {
    const r = await this.resolve(path, true);
    const st = r.exists ? await this.statReal(r.path) : undefined;
    if (st?.type !== "file")
      throw new ImagePrepError("not_found", `${path} is not a regular file in the guest`);
    return { path: r.path, st };
  }

  /** Where a write to `path` lands: links followed, the parent required to exist. */
  protected async writeTarget(path: string): Promise<{ path: string; existing: ExtStat | undefined }> {
    const r = await this.resolve(path, true);
    if (r.exists) return { path: r.path, existing: await this.statReal(r.path) };
    const norm = normalizeGuestPath(path);
    const parent = await this.resolve(parentOf(norm), true);
    const pst = parent.exists ? await this.statReal(parent.path) : undefined;
    if (pst?.type !== "dir")
      throw new ImagePrepError("not_found", `the directory of ${path} does not exist in the guest`);
    return { path: joinGuest(parent.path, baseOf(norm)), existing: undefined };
  }

  /** {@link writeTarget} for a regular file: whatever else stands there is refused. */
  protected async fileWriteTarget(path: string): Promise<{ path: string; existing: ExtStat | undefined }> {
    const target = await this.writeTarget(path);
    if (target.existing && target.existing.type !== "file") {
      throw new ImagePrepError(
        "invalid_option",
        `cannot write ${path}: it is a ${target.existing.type} in the guest`,
      );
    }
    return target;
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
    return this.linkTarget(r.path);
  }

  async list(dir: string): Promise<DirEntry[]> {
    const r = await this.resolve(dir, true);
    if (!r.exists) return [];
    const [entries] = await this.listReals([r.path]);
    return entries ?? [];
  }

  async walk(dir: string, options: { maxDepth?: number } = {}): Promise<WalkEntry[]> {
    const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
    const r = await this.resolve(dir, true);
    if (!r.exists) return [];
    const out: WalkEntry[] = [];
    let level = [r.path];
    for (let depth = 1; level.length > 0 && depth <= maxDepth; depth++) {
      const listings = await this.listReals(level);
      const next: string[] = [];
      listings.forEach((entries, i) => {
        for (const e of entries) {
          const path = joinGuest(level[i] as string, e.name);
          out.push({ ...e, path });
          if (e.type === "dir") next.push(path);
        }
      });
      level = next;
    }
    return out;
  }

  async truncate(path: string): Promise<void> {
    await this.truncateFiles([path]);
  }

  async remove(path: string): Promise<boolean> {
    const r = await this.resolve(path, false);
    const st = r.exists ? await this.statReal(r.path) : undefined;
    if (!st) return false;
    if (st.type === "dir")
      throw new ImagePrepError("invalid_option", `${path} is a directory; use removeTrees`);
    await this.removeReal(r.path);
    return true;
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
    await this.makeDir(real, ownership);
  }

  async symlink(path: string, target: string, ownership: Pick<Ownership, "uid" | "gid"> = {}): Promise<void> {
    if (/[\n\r\0]/.test(target))
      throw new ImagePrepError("invalid_option", "link target holds a control character");
    const r = await this.resolve(path, false);
    if (r.exists) throw new ImagePrepError("invalid_option", `cannot create link ${path}: it exists`);
    const { path: real } = await this.writeTarget(path);
    await this.makeSymlink(real, target, ownership);
  }

  async chown(path: string, uid: number, gid: number): Promise<void> {
    const r = await this.resolve(path, true);
    if (!r.exists) throw new ImagePrepError("not_found", `${path} does not exist in the guest`);
    await this.chownReal(r.path, uid, gid);
  }
}
