/** @module @icaas/devcloud/testing — a devcloud for a test file: in a fresh temporary directory that goes when it closes. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Devcloud, type DevcloudOptions, startDevcloud } from "./server.ts";

/** A devcloud whose data directory is its own: {@link Devcloud.close} removes it too. */
export interface TempDevcloud extends Devcloud {
  dataDir: string;
}

/**
 * Starts a devcloud on loopback with its data in a new directory named `prefix…` under the system's
 * temporary directory.
 *
 * @example
 * const cloud = await startTempDevcloud("icaas-x-");
 * try { … } finally { await cloud.close(); }
 */
export async function startTempDevcloud(
  prefix: string,
  options: Omit<DevcloudOptions, "dataDir"> = {},
): Promise<TempDevcloud> {
  const dataDir = await mkdtemp(join(tmpdir(), prefix));
  const removeDir = () => rm(dataDir, { recursive: true, force: true });
  let cloud: Devcloud;
  try {
    cloud = await startDevcloud({ ...options, dataDir });
  } catch (e) {
    await removeDir();
    throw e;
  }
  return {
    ...cloud,
    dataDir,
    async close() {
      try {
        await cloud.close();
      } finally {
        await removeDir();
      }
    },
  };
}
