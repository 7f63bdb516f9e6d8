/**
 * @module guest-fs/contract — the one filesystem-access seam inspection and every task use, whichever
 * backend serves it (debugfs on an unmounted ext partition, or a kernel mount through a loop device),
 * and the guest-path rules both backends share.
 */
import { ImagePrepError } from "../errors.ts";

export type EntryType = "file" | "dir" | "symlink" | "other";

export interface ExtStat {
  inode: number;
  type: EntryType;
  /** Permission bits (0o7777), without the file type. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
}

export interface DirEntry extends ExtStat {
  name: string;
}

/** An entry found by {@link GuestFs.walk}, with its absolute path in the guest. */
export interface WalkEntry extends DirEntry {
  path: string;
}

export interface Ownership {
  /** Permission bits; kept from the file being replaced when omitted (else 0o644 / 0o755). */
  mode?: number;
  uid?: number;
  gid?: number;
}

/**
 * Reads and edits a guest's root filesystem. Paths are absolute guest paths; symbolic links resolve
 * inside the guest (an absolute link target means the guest's root, never the host's).
 */
export interface GuestFs {
  readonly image: string;
  /** Byte offset of the root partition in the image. */
  readonly offset: number;
  /** Which backend serves it: `debugfs` (ext, unmounted) or `mount` (kernel mount through a loop device). */
  readonly backend: "debugfs" | "mount";
  /** The entry itself (a link is not followed); undefined when missing. */
  lstat(path: string): Promise<ExtStat | undefined>;
  /** The entry, following links; undefined when missing or a link dangles. */
  stat(path: string): Promise<ExtStat | undefined>;
  isFile(path: string): Promise<boolean>;
  isDir(path: string): Promise<boolean>;
  /** The path with every link resolved; undefined when some part is missing. */
  realpath(path: string): Promise<string | undefined>;
  readlink(path: string): Promise<string>;
  /** Contents of a regular file (links followed); throws `not_found`. */
  readFile(path: string): Promise<Buffer>;
  /** Contents as UTF-8, or undefined when the file is missing or not a regular file. */
  readText(path: string): Promise<string | undefined>;
  /** Several files in one pass; undefined for each one missing. */
  readTexts(paths: string[]): Promise<Array<string | undefined>>;
  /** Entries of a directory, without `.` and `..`; empty when it is missing. */
  list(dir: string): Promise<DirEntry[]>;
  /** Every entry below `dir` (links listed, not followed), parents before children. */
  walk(dir: string, options?: { maxDepth?: number }): Promise<WalkEntry[]>;
  /** Creates or replaces a regular file; a replaced file keeps its mode, owner and extended attributes. */
  writeFile(path: string, data: string | Buffer, ownership?: Ownership): Promise<void>;
  /** Empties a regular file in place (same inode, mode, owner, attributes). */
  truncate(path: string): Promise<void>;
  /** {@link truncate} for many files in one pass. */
  truncateFiles(paths: string[]): Promise<void>;
  /** Removes a file or link; false when it was not there. */
  remove(path: string): Promise<boolean>;
  /** Removes each path and everything below it (rm -rf); returns how many entries went. */
  removeTrees(paths: string[]): Promise<number>;
  mkdir(path: string, ownership?: Ownership & { parents?: boolean }): Promise<void>;
  symlink(path: string, target: string, ownership?: Pick<Ownership, "uid" | "gid">): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  chown(path: string, uid: number, gid: number): Promise<void>;
  /** Moves a file or link (same inode, so mode, owner and attributes stay). */
  rename(from: string, to: string): Promise<void>;
  /** Releases what the backend holds (temporary files; for `mount`, nothing: the mount's owner does). */
  close(): Promise<void>;
}

/** The file-type bits of a mode (S_IFREG, S_IFDIR, S_IFLNK). */
export const TYPE_BITS: Record<EntryType, number> = {
  file: 0o100000,
  dir: 0o040000,
  symlink: 0o120000,
  other: 0,
};

/** The entry type a full mode (with its file-type bits) says. */
export function typeOf(mode: number): EntryType {
  switch (mode & 0o170000) {
    case 0o100000:
      return "file";
    case 0o040000:
      return "dir";
    case 0o120000:
      return "symlink";
    default:
      return "other";
  }
}

/** The seam's first name, from when debugfs was its only backend. */
export type ExtFs = GuestFs;

/** Splits a guest path into its components, refusing what no backend can be given safely. */
export function components(path: string): string[] {
  if (!path.startsWith("/"))
    throw new ImagePrepError("invalid_option", `guest path must be absolute: ${path}`);
  if (/[\n\r\0]/.test(path))
    throw new ImagePrepError("invalid_option", "guest path holds a control character");
  return path.split("/").filter((c) => c !== "" && c !== ".");
}

/** Lexically normalises an absolute guest path (`..` cannot climb above `/`). */
export function normalizeGuestPath(path: string): string {
  const out: string[] = [];
  for (const c of components(path)) {
    if (c === "..") out.pop();
    else out.push(c);
  }
  return `/${out.join("/")}`;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

export function baseOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

export function joinGuest(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}

/** What a resolver needs from a backend: one directory entry's type, and a link's target. */
export interface PathLookup {
  /** The type of `name` in the real (link-free) directory `dir`, undefined when missing. */
  entryType(dir: string, name: string): Promise<EntryType | undefined>;
  /** The target of the link at real path `path`. */
  linkTarget(path: string): Promise<string>;
}

/**
 * Resolves `path` component by component against the guest's own tree: a link's absolute target
 * restarts at the guest's `/`, `..` never climbs above it. Returns the real path and whether it
 * exists; when it does not, the path is the real parent plus the remaining names.
 */
export async function resolveGuestPath(
  lookup: PathLookup,
  path: string,
  followLast: boolean,
): Promise<{ path: string; exists: boolean }> {
  const todo = components(path);
  const done: string[] = [];
  let hops = 0;
  while (todo.length > 0) {
    const c = todo.shift() as string;
    if (c === "..") {
      done.pop();
      continue;
    }
    const dir = `/${done.join("/")}`;
    const type = await lookup.entryType(dir, c);
    if (!type) return { path: normalizeGuestPath(`/${[...done, c, ...todo].join("/")}`), exists: false };
    if (type === "symlink" && (todo.length > 0 || followLast)) {
      if (++hops > 40)
        throw new ImagePrepError("invalid_image", `too many levels of symbolic links at ${path}`);
      const target = await lookup.linkTarget(joinGuest(dir, c));
      if (target.startsWith("/")) done.length = 0;
      todo.unshift(...target.split("/").filter((x) => x !== "" && x !== "."));
      continue;
    }
    if (todo.length > 0 && type !== "dir") {
      return { path: normalizeGuestPath(`/${[...done, c, ...todo].join("/")}`), exists: false };
    }
    done.push(c);
  }
  return { path: `/${done.join("/")}`, exists: true };
}
