/** @module sample — the demo's sample source: a small Debian 12 disk image, built once, served on loopback. */
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type SourceServer, startSourceServer } from "@icaas/agent/testing";
import { buildTestDisk } from "@icaas/imageprep/testing";

export interface Sample {
  /** `http://127.0.0.1:<port>/debian12.img` */
  url: string;
  server: SourceServer;
}

/**
 * Builds `<dir>/debian12.img` unless a run before did (needs mkfs.ext4 and sfdisk), and serves it.
 * A build that fails leaves no half-made image behind for the next run to serve.
 */
export async function serveSample(dir: string): Promise<Sample> {
  const path = join(dir, "debian12.img");
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    const partial = `${path}.partial`;
    try {
      await buildTestDisk({ path: partial, swap: true, diskMiB: 96 });
      renameSync(partial, path);
    } finally {
      rmSync(partial, { force: true });
    }
  }
  const server = await startSourceServer();
  server.serve("/debian12.img", { path });
  return { url: `${server.url}/debian12.img`, server };
}
