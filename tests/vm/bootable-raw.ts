/** @module tests/vm/bootable-raw — the bootable test source as a raw disk, for tests of the qemu driver itself. */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { ensureBootableSource } from "./source/bootable-source.ts";

const exec = promisify(execFile);

export interface BootableRaw {
  path: string;
  rootPartition: number;
}

/**
 * The source's VMDK converted to raw once, kept beside the cached source zip (and deleted with it when the
 * source's builder changes).
 */
export async function bootableRaw(): Promise<BootableRaw> {
  const { zip, manifest } = await ensureBootableSource();
  const path = join(dirname(zip), "source.raw");
  if (!existsSync(path)) {
    const work = await mkdtemp(join(dirname(zip), ".raw-"));
    try {
      await exec("unzip", ["-q", zip, manifest.vmdk, "-d", work]);
      await exec("qemu-img", [
        "convert",
        "-f",
        "vmdk",
        "-O",
        "raw",
        join(work, manifest.vmdk),
        join(work, "source.raw"),
      ]);
      await rename(join(work, "source.raw"), path);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  const root = manifest.disk.partitions.find((p) => p.mountpoint === "/") ?? manifest.disk.partitions[0];
  return { path, rootPartition: root?.number ?? 1 };
}
