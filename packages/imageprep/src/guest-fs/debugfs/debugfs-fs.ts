/** @module guest-fs/debugfs — the {@link GuestFs} of an unmounted ext2/3/4 partition inside a raw image, edited in place through debugfs batches. */
import { symlink as hostSymlink, writeFile as hostWriteFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve as resolvePath } from "node:path";
import { ImagePrepError } from "../../errors.ts";
import { runTool } from "../../run-tool.ts";
import {
  baseOf,
  type DirEntry,
  type EntryType,
  type ExtStat,
  type GuestFs,
  joinGuest,
  type Ownership,
  parentOf,
  TYPE_BITS,
  typeOf,
} from "../contract.ts";
import { ResolvingGuestFs } from "../resolving-fs.ts";

/** `EXT4_INLINE_DATA_FL`: the file's data is in its inode. */
const INLINE_DATA_FL = 0x10000000;

/** Quotes an argument for debugfs's command parser (a `"` is doubled inside quotes). */
function q(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

function octal(n: number): string {
  return `0${n.toString(8)}`;
}

/** A directory's `ls -p` output; undefined when the path is missing or no directory. */
function parseListing(text: string): DirEntry[] | undefined {
  const entries = text
    .split("\n")
    .map(parseLsLine)
    .filter((e): e is DirEntry => e !== undefined);
  // A directory always lists "." — no lines at all means the path is missing or not a directory.
  return entries.length > 0 ? entries : undefined;
}

/** Parses one `ls -p` line: `/inode/mode/uid/gid/name/size/`. */
function parseLsLine(line: string): DirEntry | undefined {
  if (!line.startsWith("/") || !line.endsWith("/")) return undefined;
  const f = line.slice(1, -1).split("/");
  if (f.length !== 6) return undefined;
  const [ino, mode, uid, gid, name, size] = f as [string, string, string, string, string, string];
  const m = Number.parseInt(mode, 8);
  if (!name || Number(ino) === 0) return undefined;
  return {
    name,
    inode: Number(ino),
    type: typeOf(m),
    mode: m & 0o7777,
    uid: Number(uid),
    gid: Number(gid),
    size: size === "" ? 0 : Number(size),
  };
}

/** Where debugfs's banner ends and real complaints begin. */
function complaints(stderr: string): string[] {
  return stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^debugfs \d/.test(l));
}

/**
 * Opens the ext filesystem that starts `offset` bytes into `image`. Nothing is locked or mounted: the
 * caller must not run other tools on the same partition while the seam is in use.
 *
 * @example
 * const fs = await openExtFs("disk.raw", 1048576);
 * try { console.log(await fs.readText("/etc/os-release")); } finally { await fs.close(); }
 */
export async function openExtFs(image: string, offset: number): Promise<GuestFs> {
  const fs = new DebugfsExtFs(image, offset);
  try {
    await fs.init();
  } catch (e) {
    await fs.close();
    throw e;
  }
  return fs;
}

/** Runs `fn` with an open {@link GuestFs} and closes it afterwards. */
export async function withExtFs<T>(
  image: string,
  offset: number,
  fn: (fs: GuestFs) => Promise<T>,
): Promise<T> {
  const fs = await openExtFs(image, offset);
  try {
    return await fn(fs);
  } finally {
    await fs.close();
  }
}

class DebugfsExtFs extends ResolvingGuestFs {
  readonly backend = "debugfs";
  private tmp = "";
  private spec = "";
  private seq = 0;
  private queue: Promise<unknown> = Promise.resolve();
  /** Directory listings by real path; a write forgets the ones it touched. */
  private listings = new Map<string, DirEntry[] | undefined>();
  /** Symbolic link targets by real path; forgotten like listings. */
  private links = new Map<string, string>();
  /** The filesystem keeps small files inside their inodes (the `inline_data` feature). */
  private inlineData = false;

  async init(): Promise<void> {
    this.tmp = await mkdtemp(join(tmpdir(), "icaas-extfs-"));
    let device = this.image;
    // e2fsprogs reads `?` as the start of io options, so hide such a name behind a link.
    if (device.includes("?")) {
      device = join(this.tmp, "image");
      await hostSymlink(resolvePath(this.image), device);
    }
    this.spec = this.offset > 0 ? `${device}?offset=${this.offset}` : device;
    const probe = await this.run(["stats -h"]).catch((e: unknown) => {
      // debugfs exits 1 when the bytes at the offset are not an ext superblock; a missing debugfs is another matter.
      if (
        e instanceof ImagePrepError &&
        e.code === "tool_failed" &&
        !/not installed|could not start/.test(e.message)
      ) {
        return undefined;
      }
      throw e;
    });
    this.inlineData = /^Filesystem features:.*\binline_data\b/m.test(probe?.sections[0] ?? "");
    if (!/Filesystem magic number:\s+0xEF53/.test(probe?.sections[0] ?? "")) {
      throw new ImagePrepError(
        "invalid_image",
        `no ext filesystem at offset ${this.offset} of ${this.image}`,
      );
    }
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    if (this.tmp) await rm(this.tmp, { recursive: true, force: true });
  }

  /** Runs one debugfs batch; returns each command's output in order. Batches never overlap. */
  private run(commands: string[], touched?: string[]): Promise<{ sections: string[]; stderr: string }> {
    const write = touched !== undefined;
    const task = this.queue.then(async () => {
      if (touched) this.forget(touched);
      const args = [...(write ? ["-w"] : []), "-f", "-", this.spec];
      const r = await runTool("debugfs", args, {
        input: `${commands.join("\n")}\n`,
        encoding: "latin1",
        env: { DEBUGFS_PAGER: "__none__", PAGER: "__none__" },
      });
      const sections: string[] = [];
      let current: string[] | undefined;
      for (const line of r.stdout.split("\n")) {
        if (line.startsWith("debugfs: ")) {
          current = [];
          sections.push("");
          continue;
        }
        if (current) sections[sections.length - 1] += `${line}\n`;
      }
      if (sections.length !== commands.length) {
        throw new ImagePrepError(
          "tool_failed",
          `debugfs ran ${sections.length} of ${commands.length} commands: ${r.stderr.trim()}`,
          {
            tool: "debugfs",
          },
        );
      }
      if (write) {
        const bad = complaints(r.stderr);
        if (bad.length > 0) {
          throw new ImagePrepError("tool_failed", `debugfs could not edit ${this.image}: ${bad.join("; ")}`, {
            tool: "debugfs",
          });
        }
      }
      return { sections, stderr: r.stderr };
    });
    this.queue = task.catch(() => undefined);
    return task;
  }

  /** Drops what is cached about these paths, their parents and everything below them. */
  private forget(paths: string[]): void {
    for (const p of paths) {
      const parent = parentOf(p);
      for (const cache of [this.listings, this.links] as Map<string, unknown>[]) {
        for (const key of [...cache.keys()]) {
          if (key === p || key === parent || key.startsWith(`${p}/`)) cache.delete(key);
        }
      }
    }
  }

  private async listMany(dirs: string[]): Promise<Array<DirEntry[] | undefined>> {
    const missing = dirs.filter((d) => !this.listings.has(d));
    const unique = [...new Set(missing)];
    if (unique.length > 0) {
      const { sections } = await this.run(unique.map((d) => `ls -p ${q(d)}`));
      unique.forEach((d, i) => {
        this.listings.set(d, parseListing(sections[i] ?? ""));
      });
    }
    return dirs.map((d) => this.listings.get(d));
  }

  /**
   * The directories on the way to `path` that are not listed yet, listed in one debugfs run rather
   * than one run each as the resolver walks down (each run costs a process and the filesystem's
   * opening). A listing is kept only where the listing above it shows that name as a real directory:
   * past a link, a missing name or a file the resolver goes on alone.
   */
  protected override async prefetch(path: string): Promise<void> {
    const names = path.split("/").filter((n) => n !== "" && n !== ".");
    const up = names.indexOf("..");
    // The last name is looked up in its parent; its own listing is not needed.
    const onTheWay = names.slice(0, up >= 0 ? up : names.length - 1);
    const chain = ["/"];
    for (const name of onTheWay) chain.push(joinGuest(chain[chain.length - 1]!, name));
    const missing = chain.filter((d) => !this.listings.has(d));
    if (missing.length < 2) return;
    const { sections } = await this.run(missing.map((d) => `ls -p ${q(d)}`));
    const fetched = new Map(missing.map((d, i) => [d, parseListing(sections[i] ?? "")]));
    for (let i = 0; i < chain.length; i++) {
      const dir = chain[i]!;
      if (i > 0) {
        const above = this.listings.get(chain[i - 1]!);
        if (above?.find((e) => e.name === onTheWay[i - 1])?.type !== "dir") return;
      }
      if (!this.listings.has(dir)) this.listings.set(dir, fetched.get(dir));
    }
  }

  /** The entry `name` in real directory `dir`, or the directory itself for `.`. */
  private async entry(dir: string, name: string): Promise<DirEntry | undefined> {
    const [entries] = await this.listMany([dir]);
    return entries?.find((e) => e.name === name);
  }

  protected async linkTarget(realPath: string): Promise<string> {
    const cached = this.links.get(realPath);
    if (cached !== undefined) return cached;
    const { sections } = await this.run([`stat ${q(realPath)}`]);
    const text = sections[0] ?? "";
    const fast = /Fast link dest: "(.*)"\s*$/m.exec(text);
    let target = fast?.[1];
    if (target === undefined) {
      // Long targets live in a data block, which dump copies out like file contents.
      const host = this.hostFile();
      await this.run([`dump ${q(realPath)} ${q(host)}`]);
      try {
        target = (await readFile(host)).toString("latin1");
      } finally {
        await rm(host, { force: true });
      }
    }
    this.links.set(realPath, target);
    return target;
  }

  protected async entryType(dir: string, name: string): Promise<EntryType | undefined> {
    return (await this.entry(dir, name))?.type;
  }

  protected async statReal(real: string): Promise<ExtStat | undefined> {
    if (real === "/") return this.entry("/", ".");
    return this.entry(parentOf(real), baseOf(real));
  }

  /**
   * `punch` commands to run before these files are removed: a freed inode keeps its inline data
   * (debugfs's rm only frees blocks), where no block discard reaches it. Only last links are emptied.
   */
  private async inlineScrub(reals: string[]): Promise<string[]> {
    if (!this.inlineData || reals.length === 0) return [];
    const { sections } = await this.run(reals.map((r) => `stat ${q(r)}`));
    const cmds: string[] = [];
    reals.forEach((real, i) => {
      const out = sections[i] ?? "";
      const flags = Number.parseInt(/Flags: 0x([0-9a-f]+)/.exec(out)?.[1] ?? "0", 16);
      const links = Number(/^Links: (\d+)/m.exec(out)?.[1] ?? 0);
      if (/Type: regular/.test(out) && links === 1 && flags & INLINE_DATA_FL) cmds.push(`punch ${q(real)} 0`);
    });
    return cmds;
  }

  private hostFile(): string {
    this.seq += 1;
    return join(this.tmp, `f${this.seq}`);
  }

  async readFile(path: string): Promise<Buffer> {
    const [buf] = await this.readBuffers([path]);
    if (!buf)
      throw new ImagePrepError("not_found", `${path} does not exist in the guest (or is not a regular file)`);
    return buf;
  }

  async readText(path: string): Promise<string | undefined> {
    const [t] = await this.readTexts([path]);
    return t;
  }

  async readTexts(paths: string[]): Promise<Array<string | undefined>> {
    return (await this.readBuffers(paths)).map((b) => b?.toString("utf8"));
  }

  private async readBuffers(paths: string[]): Promise<Array<Buffer | undefined>> {
    const reals: Array<string | undefined> = [];
    for (const p of paths) {
      const r = await this.resolve(p, true);
      const st = r.exists ? await this.statReal(r.path) : undefined;
      reals.push(st?.type === "file" ? r.path : undefined);
    }
    const wanted = reals.map((r) => (r === undefined ? undefined : { real: r, host: this.hostFile() }));
    const jobs = wanted.filter((w): w is { real: string; host: string } => w !== undefined);
    if (jobs.length > 0) await this.run(jobs.map((j) => `dump ${q(j.real)} ${q(j.host)}`));
    const out: Array<Buffer | undefined> = [];
    for (const w of wanted) {
      if (!w) {
        out.push(undefined);
        continue;
      }
      try {
        out.push(await readFile(w.host));
      } catch {
        out.push(undefined);
      } finally {
        await rm(w.host, { force: true });
      }
    }
    return out;
  }

  protected async listReals(dirs: string[]): Promise<DirEntry[][]> {
    return (await this.listMany(dirs)).map((entries) =>
      (entries ?? []).filter((e) => e.name !== "." && e.name !== ".."),
    );
  }

  private async xattrNames(real: string): Promise<string[]> {
    const { sections } = await this.run([`ea_list ${q(real)}`]);
    const names: string[] = [];
    for (const line of (sections[0] ?? "").split("\n")) {
      const m = /^ {2}(\S+) \(\d+\)/.exec(line);
      // system.data holds inline file contents, which the rewrite replaces anyway.
      if (m?.[1] && m[1] !== "system.data") names.push(m[1]);
    }
    return names;
  }

  async writeFile(path: string, data: string | Buffer, ownership: Ownership = {}): Promise<void> {
    const { path: real, existing } = await this.fileWriteTarget(path);
    const mode = ownership.mode ?? existing?.mode ?? 0o644;
    const uid = ownership.uid ?? existing?.uid ?? 0;
    const gid = ownership.gid ?? existing?.gid ?? 0;
    const host = this.hostFile();
    await hostWriteFile(host, data);
    const cmds: string[] = [];
    const saved: Array<{ name: string; host: string }> = [];
    if (existing) {
      for (const name of await this.xattrNames(real)) {
        const h = this.hostFile();
        saved.push({ name, host: h });
        cmds.push(`ea_get -f ${q(h)} ${q(real)} ${q(name)}`);
      }
      cmds.push(...(await this.inlineScrub([real])), `rm ${q(real)}`);
    }
    cmds.push(
      `write ${q(host)} ${q(real)}`,
      `sif ${q(real)} mode ${octal(TYPE_BITS.file | mode)}`,
      `sif ${q(real)} uid ${uid}`,
      `sif ${q(real)} gid ${gid}`,
    );
    for (const s of saved) cmds.push(`ea_set -f ${q(s.host)} ${q(real)} ${q(s.name)}`);
    try {
      await this.run(cmds, [real]);
    } finally {
      await rm(host, { force: true });
      for (const s of saved) await rm(s.host, { force: true });
    }
  }

  async truncateFiles(paths: string[]): Promise<void> {
    const cmds: string[] = [];
    const touched: string[] = [];
    for (const path of paths) {
      const { path: real, st } = await this.regularFile(path);
      if (st.size === 0 || touched.includes(real)) continue;
      cmds.push(`punch ${q(real)} 0`, `sif ${q(real)} size 0`);
      touched.push(real);
    }
    if (cmds.length > 0) await this.run(cmds, touched);
  }

  protected async removeReal(real: string): Promise<void> {
    await this.run([...(await this.inlineScrub([real])), `rm ${q(real)}`], [real]);
  }

  async removeTrees(paths: string[]): Promise<number> {
    const cmds: string[] = [];
    const touched: string[] = [];
    let count = 0;
    for (const p of paths) {
      const r = await this.resolve(p, false);
      const st = r.exists ? await this.statReal(r.path) : undefined;
      if (!st || r.path === "/") continue;
      touched.push(r.path);
      if (st.type !== "dir") {
        cmds.push(...(await this.inlineScrub(st.type === "file" ? [r.path] : [])), `rm ${q(r.path)}`);
        count += 1;
        continue;
      }
      const below = await this.walk(r.path);
      cmds.push(...(await this.inlineScrub(below.filter((e) => e.type === "file").map((e) => e.path))));
      for (const e of below) if (e.type !== "dir") cmds.push(`rm ${q(e.path)}`);
      // Deepest directories first, so each is empty when its turn comes.
      const dirs = below.filter((e) => e.type === "dir").map((e) => e.path);
      dirs.sort((a, b) => b.split("/").length - a.split("/").length);
      for (const d of [...dirs, r.path]) cmds.push(`rmdir ${q(d)}`);
      count += below.length + 1;
    }
    if (cmds.length > 0) await this.run(cmds, touched);
    return count;
  }

  protected async makeDir(real: string, ownership: Ownership): Promise<void> {
    const mode = ownership.mode ?? 0o755;
    await this.run(
      [
        `mkdir ${q(real)}`,
        `sif ${q(real)} mode ${octal(TYPE_BITS.dir | mode)}`,
        `sif ${q(real)} uid ${ownership.uid ?? 0}`,
        `sif ${q(real)} gid ${ownership.gid ?? 0}`,
      ],
      [real],
    );
  }

  protected async makeSymlink(
    real: string,
    target: string,
    ownership: Pick<Ownership, "uid" | "gid">,
  ): Promise<void> {
    await this.run(
      [
        `symlink ${q(real)} ${q(target)}`,
        `sif ${q(real)} uid ${ownership.uid ?? 0}`,
        `sif ${q(real)} gid ${ownership.gid ?? 0}`,
      ],
      [real],
    );
  }

  async chmod(path: string, mode: number): Promise<void> {
    const r = await this.resolve(path, true);
    const st = r.exists ? await this.statReal(r.path) : undefined;
    if (!st) throw new ImagePrepError("not_found", `${path} does not exist in the guest`);
    await this.run([`sif ${q(r.path)} mode ${octal(TYPE_BITS[st.type] | (mode & 0o7777))}`], [r.path]);
  }

  protected async chownReal(real: string, uid: number, gid: number): Promise<void> {
    await this.run([`sif ${q(real)} uid ${uid}`, `sif ${q(real)} gid ${gid}`], [real]);
  }

  async rename(from: string, to: string): Promise<void> {
    const src = await this.resolve(from, false);
    const st = src.exists ? await this.statReal(src.path) : undefined;
    if (!st) throw new ImagePrepError("not_found", `${from} does not exist in the guest`);
    const dst = await this.resolve(to, false);
    const real = dst.exists ? dst.path : (await this.writeTarget(to)).path;
    if (st.type === "dir" && parentOf(real) !== parentOf(src.path)) {
      throw new ImagePrepError("invalid_option", `cannot move directory ${from} to another directory`);
    }
    const cmds: string[] = [];
    if (dst.exists) {
      const dstSt = await this.statReal(dst.path);
      if (dstSt?.type === "dir") throw new ImagePrepError("invalid_option", `cannot replace directory ${to}`);
      cmds.push(`rm ${q(dst.path)}`);
    }
    // debugfs's ln and unlink leave link counts alone, so the pair moves the entry and keeps the count.
    cmds.push(`ln ${q(src.path)} ${q(real)}`, `unlink ${q(src.path)}`);
    await this.run(cmds, [src.path, real]);
  }
}
