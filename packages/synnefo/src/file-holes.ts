/** @module file-holes — where a sparse file keeps data, so hole blocks are hashed without being read. */
import { execFile } from "node:child_process";
import { open, stat, statfs } from "node:fs/promises";

/** A byte range of a file that may hold data: `[start, end)`. */
export interface DataExtent {
  start: number;
  end: number;
}

/** How the extents were found, for logs and benchmarks. */
export type ExtentSource = "empty" | "dense" | "filefrag" | "unknown";

export interface FileExtents {
  /** Ranges that may hold data, sorted and merged; `undefined` when unknown (read everything). */
  extents: DataExtent[] | undefined;
  source: ExtentSource;
}

const FILEFRAG_PATHS = ["filefrag", "/usr/sbin/filefrag", "/sbin/filefrag"];

/**
 * Filesystems whose `st_blocks` and FIEMAP are exact right after a write (ext2/3/4, XFS, Btrfs, tmpfs).
 * Others (ZFS reports blocks late, network filesystems guess) are read in full.
 */
const TRUSTED_FILESYSTEMS = new Set([0xef53, 0x58465342, 0x9123683e, 0x01021994]);

/** Below this size a file may keep its data inline in the inode, with `st_blocks` 0. */
const INLINE_LIMIT = 64 * 1024;

/**
 * Finds the data extents of a file. Node has no `lseek(SEEK_DATA/SEEK_HOLE)`, so this asks the kernel's
 * FIEMAP through e2fsprogs' `filefrag -s -v` — one process per file, never per block.
 *
 * FIEMAP is only exact for data that has reached the disk: while writeback runs, data still in the page
 * cache can be left out of the map, and its blocks would be uploaded as zeros (seen here: 11 of 25
 * freshly written files lost blocks with a `sync` running alongside). So the file is flushed first
 * (`fdatasync`, and `-s` = FIEMAP_FLAG_SYNC), which costs nothing for a clean file and otherwise only
 * does early the writeback the kernel owes anyway. After the flush, `st_blocks` is exact too: a file
 * with no allocated blocks needs no `filefrag`, a fully allocated one has no holes worth finding.
 * Unwritten (fallocated) extents read as zeros, so they count as holes. Any failure gives
 * `extents: undefined`, and the caller reads every block (zero blocks are still detected after reading).
 *
 * @example
 * const { extents } = await findDataExtents("/tmp/disk.raw");
 */
export async function findDataExtents(path: string): Promise<FileExtents> {
  const first = await stat(path);
  if (first.size === 0) return { extents: [], source: "empty" };
  const fs = await statfs(path).catch(() => undefined);
  if (!fs || !TRUSTED_FILESYSTEMS.has(fs.type)) return { extents: undefined, source: "unknown" };
  if (first.blocks * 512 >= first.size) return { extents: undefined, source: "dense" };
  if (!(await flush(path))) return { extents: undefined, source: "unknown" };
  const st = await stat(path);
  if (st.blocks === 0 && st.size >= INLINE_LIMIT) return { extents: [], source: "empty" };
  if (st.blocks * 512 >= st.size) return { extents: undefined, source: "dense" };
  for (const command of FILEFRAG_PATHS) {
    const output = await run(command, ["-s", "-v", path]);
    if (output === undefined) continue;
    const extents = parseFilefrag(output, st.size);
    return extents ? { extents, source: "filefrag" } : { extents: undefined, source: "unknown" };
  }
  return { extents: undefined, source: "unknown" };
}

/**
 * Reads `filefrag -v` output into byte extents clipped to `size`; `undefined` when the output is not
 * the expected FIEMAP listing (e.g. a filesystem without FIEMAP).
 */
export function parseFilefrag(output: string, size: number): DataExtent[] | undefined {
  const header = /\((\d+) blocks? of (\d+) bytes\)/.exec(output);
  if (!header || !/extents? found/.test(output)) return undefined;
  const unit = Number(header[2]);
  if (!(unit > 0)) return undefined;
  const raw: DataExtent[] = [];
  for (const line of output.split("\n")) {
    const m = /^\s*\d+:\s*(\d+)\.\.\s*(\d+):/.exec(line);
    if (!m) continue;
    const flags = line.slice(line.lastIndexOf(":") + 1);
    // Unwritten extents are allocated but read back as zeros: treat them as holes.
    if (/\bunwritten\b/.test(flags)) continue;
    const start = Number(m[1]) * unit;
    const end = Math.min((Number(m[2]) + 1) * unit, size);
    if (end > start) raw.push({ start, end });
  }
  raw.sort((a, b) => a.start - b.start);
  const merged: DataExtent[] = [];
  for (const e of raw) {
    const last = merged[merged.length - 1];
    if (last && e.start <= last.end) last.end = Math.max(last.end, e.end);
    else merged.push({ ...e });
  }
  return merged;
}

/**
 * Walks extents in block order and answers "may this block hold data?". Blocks must be asked about in
 * increasing order (the cursor only moves forward), which keeps the walk linear.
 */
export class ExtentCursor {
  readonly #extents: DataExtent[] | undefined;
  #index = 0;

  constructor(extents: DataExtent[] | undefined) {
    this.#extents = extents;
  }

  /** True unless the known extents prove `[start, end)` is all hole. */
  mayHoldData(start: number, end: number): boolean {
    const extents = this.#extents;
    if (extents === undefined) return true;
    while (this.#index < extents.length && extents[this.#index]!.end <= start) this.#index++;
    const next = extents[this.#index];
    return next !== undefined && next.start < end;
  }
}

/** `fdatasync` through a read-only handle; false when the filesystem refuses. */
async function flush(path: string): Promise<boolean> {
  const fh = await open(path, "r");
  try {
    await fh.datasync();
    return true;
  } catch {
    return false;
  } finally {
    await fh.close();
  }
}

function run(command: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { timeout: 30_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: "C" } },
      (error, stdout) => resolve(error ? undefined : stdout),
    );
  });
}
