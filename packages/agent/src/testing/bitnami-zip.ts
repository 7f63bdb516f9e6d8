/** @module testing/bitnami-zip — a Bitnami-style zip of a disk: `<name>/<name>.vmdk` (streamOptimized) + `.ovf`. */
import { execFile } from "node:child_process";
import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface BitnamiZip {
  /** The zip file. */
  path: string;
  /** e.g. `bitnami-foo-1.0-0-linux-debian-12-x86_64`. */
  name: string;
  bytes: number;
  /** Size of the VMDK inside. */
  vmdkBytes: number;
}

/**
 * Turns a raw disk into what Bitnami published: a streamOptimized VMDK and an OVF descriptor in a
 * folder named like the zip. `store: true` keeps the members uncompressed (zip -0), as a streamOptimized
 * VMDK is compressed already; the default deflates, as Bitnami did.
 *
 * @example
 * const zip = await makeBitnamiZip({ raw: "/tmp/disk.raw", dir: "/tmp/out" });
 */
export async function makeBitnamiZip(options: {
  raw: string;
  dir: string;
  name?: string;
  store?: boolean;
}): Promise<BitnamiZip> {
  const name = options.name ?? "bitnami-foo-1.0-0-linux-debian-12-x86_64";
  const folder = join(options.dir, name);
  await mkdir(folder, { recursive: true });
  const vmdk = join(folder, `${name}.vmdk`);
  await run("qemu-img", [
    "convert",
    "-f",
    "raw",
    "-O",
    "vmdk",
    "-o",
    "subformat=streamOptimized",
    options.raw,
    vmdk,
  ]);
  await writeFile(
    join(folder, `${name}.ovf`),
    `<?xml version="1.0" encoding="UTF-8"?>\n<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">\n  <References><File ovf:href="${name}.vmdk" ovf:id="file1"/></References>\n</Envelope>\n`,
  );
  const zip = join(options.dir, `${name}.zip`);
  await rm(zip, { force: true });
  await run("zip", ["-q", "-r", ...(options.store ? ["-0"] : []), zip, name], { cwd: options.dir });
  const vmdkBytes = (await stat(vmdk)).size;
  await rm(folder, { recursive: true, force: true });
  return { path: zip, name, bytes: (await stat(zip)).size, vmdkBytes };
}
