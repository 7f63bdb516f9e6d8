/** @module testing/pithos-devcloud — a devcloud serving only Pithos, in a temporary directory, with a client for the demo user. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DEMO_TOKEN,
  DEMO_USER_UUID,
  type Devcloud,
  objectStoreFactory,
  startDevcloud,
} from "@icaas/devcloud";
import { PithosClient } from "../pithos.ts";

export interface PithosDevcloud {
  /** The temporary directory: the cloud's data is in `cloud/`, the rest is the test's. */
  dir: string;
  cloud: Devcloud;
  pithos: PithosClient;
  /** Clears injected faults, stops the cloud and removes the directory. */
  close(): Promise<void>;
}

/** Starts it with `container` created; `retries` as the client's (backoff 5 ms, so tests stay fast). */
export async function startPithosDevcloud(container: string, retries = 2): Promise<PithosDevcloud> {
  const dir = await mkdtemp(join(tmpdir(), "icaas-pithos-"));
  const cloud = await startDevcloud({ dataDir: join(dir, "cloud"), services: [objectStoreFactory] });
  const pithos = new PithosClient({
    storageUrl: `${cloud.url}/object-store/v1`,
    account: DEMO_USER_UUID,
    token: DEMO_TOKEN,
    retries,
    backoffMs: 5,
  });
  await pithos.createContainer(container);
  return {
    dir,
    cloud,
    pithos,
    close: async () => {
      cloud.injection.set({});
      await cloud.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
