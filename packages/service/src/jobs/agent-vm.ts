/** @module jobs/agent-vm — the Cyclades request for a build's agent VM: name, personality, metadata. */
import { type BuildNetwork, MANIFEST_PATH, MARKER_PATH } from "@icaas/contract";
import type { CreateServerRequest, PersonalityFile } from "@icaas/synnefo";
import { BUILD_METADATA_KEY } from "../cloud/compute.ts";

export interface AgentVmSettings {
  endpoint: string;
  imageId: string;
  flavorId: string;
  networks?: BuildNetwork[];
  project?: string;
}

/** `YYYYMMDDHHMMSSffffff` in UTC, the original's `strftime('%Y%m%d%H%M%S%f')` (microseconds padded). */
export function vmTimestamp(date = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return (
    `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}` +
    `${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}${p(date.getUTCMilliseconds(), 3)}000`
  );
}

export function vmName(buildId: number, date = new Date()): string {
  return `icaas-agent-${buildId}-${vmTimestamp(date)}`;
}

/** The INI the agent reads: only the one-time manifest URL, no secret beyond the nonce. */
function manifestCfg(endpoint: string, buildId: number, nonce: string): string {
  return `[manifest]\nurl = ${endpoint}/builds/agent/${buildId}/${nonce}\n`;
}

function file(path: string, contents: string): PersonalityFile {
  return {
    path,
    contents: Buffer.from(contents).toString("base64"),
    owner: "root",
    group: "root",
    mode: 0o600,
  };
}

/**
 * The create request: `/etc/icaas/manifest.cfg` with the manifest URL and the `/.icaas` marker (mode
 * 0600 = 384), metadata `icaas_build`, networks and project from the build or the configuration.
 */
export function agentServerRequest(
  build: { id: number; networks: string | null; project: string | null },
  nonce: string,
  name: string,
  settings: AgentVmSettings,
): CreateServerRequest {
  const networks = build.networks
    ? (JSON.parse(build.networks) as AgentVmSettings["networks"])
    : settings.networks;
  const project = build.project ?? settings.project;
  return {
    name,
    imageRef: settings.imageId,
    flavorRef: settings.flavorId,
    personality: [
      file(MANIFEST_PATH, manifestCfg(settings.endpoint, build.id, nonce)),
      file(MARKER_PATH, "empty"),
    ],
    metadata: { [BUILD_METADATA_KEY]: String(build.id) },
    ...(networks !== undefined ? { networks } : {}),
    ...(project ? { project } : {}),
  };
}
