/** @module testing/devcloud-admin — the devcloud's admin view (every VM, its agent process) and its fault switch. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Devcloud } from "@icaas/devcloud";
import { call, waitFor } from "./http.ts";

/** A devcloud VM as `GET /_devcloud/compute/servers` shows it (deleted ones included). */
export interface DevcloudServer {
  id: number;
  name: string;
  userId: string;
  status: string;
  deleted: boolean;
  /** The delete finished: disk and files removed. */
  destroyed: boolean;
  rootDir: string;
  consoleLog: string;
  /** The agent process's pid while one runs. */
  pid: number | null;
  /** The agent process; `state` is `running` until it ends (`exited`, `stopped`, `killed`, …). */
  process: { pid: number; state: string; exitCode?: number | null; signal?: string | null } | null;
}

/** Every server the devcloud ever made (admin view, deleted ones included). */
export async function devcloudServers(cloud: Devcloud): Promise<DevcloudServer[]> {
  const answer = await call(`${cloud.url}/_devcloud/compute/servers`);
  return answer.body.servers as DevcloudServer[];
}

export async function liveServers(cloud: Devcloud): Promise<DevcloudServer[]> {
  return (await devcloudServers(cloud)).filter((s) => !s.deleted);
}

/** Switches the devcloud's fault injection (`{}` clears it). */
export async function setFaults(cloud: Devcloud, faults: Record<string, unknown>): Promise<void> {
  const answer = await call(`${cloud.url}/_devcloud/faults`, { method: "PUT", body: faults });
  if (answer.status !== 204) throw new Error(`PUT /_devcloud/faults: ${answer.status}`);
}

/** The manifest URL the service wrote into a VM (`<root>/etc/icaas/manifest.cfg`). */
export function manifestUrlOf(server: DevcloudServer): string {
  const ini = readFileSync(join(server.rootDir, "etc", "icaas", "manifest.cfg"), "utf8");
  const match = ini.match(/^url = (.+)$/m);
  if (!match?.[1]) throw new Error(`no manifest url in ${ini}`);
  return match[1];
}

/**
 * The devcloud server of a build: the service names it `icaas-agent-<id>-<time>`. Several services
 * with their own databases may share one devcloud, so ids repeat: given the service's `endpoint`,
 * the manifest URL tells them apart.
 */
export async function findServer(
  cloud: Devcloud,
  buildId: number | string,
  endpoint?: string,
): Promise<DevcloudServer | undefined> {
  const prefix = `${endpoint}/builds/agent/${buildId}/`;
  return (await devcloudServers(cloud)).find((s) => {
    if (!s.name.startsWith(`icaas-agent-${buildId}-`)) return false;
    if (endpoint === undefined) return true;
    try {
      return manifestUrlOf(s).startsWith(prefix);
    } catch {
      return false;
    }
  });
}

/** Waits for the build's VM to exist. */
export async function serverOfBuild(
  cloud: Devcloud,
  buildId: number,
  endpoint: string,
): Promise<DevcloudServer> {
  return waitFor(`the VM of build ${buildId}`, () => findServer(cloud, buildId, endpoint));
}

/** Waits for the build's VM to exist and then to be deleted. */
export async function vmDeleted(cloud: Devcloud, buildId: number, endpoint: string): Promise<DevcloudServer> {
  const server = await serverOfBuild(cloud, buildId, endpoint);
  return waitFor(`VM ${server.id} of build ${buildId} to be deleted`, async () => {
    const now = (await devcloudServers(cloud)).find((s) => s.id === server.id);
    return now?.deleted ? now : undefined;
  });
}

/** Acts as the agent of a build: reads manifest.cfg in the VM, fetches the manifest, reports. */
export async function actAsAgent(cloud: Devcloud, buildId: number, endpoint: string) {
  const server = await serverOfBuild(cloud, buildId, endpoint);
  const manifestUrl = manifestUrlOf(server);
  const answer = await call(manifestUrl);
  if (answer.status !== 200)
    throw new Error(`manifest fetch: ${answer.status} ${JSON.stringify(answer.body)}`);
  const manifest = answer.body.manifest;
  return {
    server,
    manifestUrl,
    manifest,
    report: (body: unknown, token: string = manifest.service.token) =>
      call(manifest.service.status, { method: "PUT", body, headers: { "x-icaas-token": token } }),
  };
}
