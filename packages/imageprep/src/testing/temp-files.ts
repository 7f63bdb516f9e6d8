/** @module testing/temp-files — a temporary directory for the tests of one `describe`, made before them and removed after. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";

/**
 * Registers the hooks of the calling `describe` and returns where a named file of it goes.
 *
 * @example
 * const tempFile = tempFiles("icaas-shrink-");
 * it("…", async () => { await buildTestDisk({ path: tempFile("disk.raw") }); });
 */
export function tempFiles(prefix: string): (name: string) => string {
  let dir: string | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return (name) => {
    if (!dir) throw new Error("tempFiles: used outside the tests of its describe");
    return join(dir, name);
  };
}
