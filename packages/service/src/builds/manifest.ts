/** @module builds/manifest — the one-time manifest an agent fetches: what to build and how to report. */
import type { ManifestSections } from "@icaas/contract";
import { policyToManifest, type SourcePolicy } from "@icaas/source-policy";
import type { BuildRow } from "../db/schema.ts";
import type { Location } from "./locations.ts";

export interface ManifestSettings {
  /** `<publicUrl>/icaas` */
  endpoint: string;
  authUrl: string;
  insecure: boolean;
  progressHeuristic: number;
  progressIntervalSeconds: number;
  maxDownloadBytes?: number;
  minDownloadBytesPerSecond: number;
  downloadWindowSeconds: number;
  buildTimeoutSeconds: number;
  /** Where the source may point; the agent judges every address it connects to by it. */
  sourcePolicy: SourcePolicy;
}

/**
 * The manifest of the original (progress, image, service, synnefo, log sections, string booleans as
 * the shell agent expected) plus `checksum`, `limits` and `source` (the source policy). Optional keys appear only when set.
 */
export function buildManifest(
  row: BuildRow,
  secrets: { agentToken: string; userToken: string },
  settings: ManifestSettings,
): { manifest: ManifestSections } {
  const image = JSON.parse(row.image) as Location;
  const log = JSON.parse(row.log) as Location;
  return {
    manifest: {
      progress: { heuristic: settings.progressHeuristic, interval: settings.progressIntervalSeconds },
      image: {
        src: row.src,
        name: row.name,
        container: image.container,
        object: image.object,
        ...(row.public === 1 ? { public: "True" } : {}),
        ...(row.description ? { description: row.description } : {}),
        ...(row.checksum ? { checksum: row.checksum } : {}),
        ...(image.account ? { account: image.account } : {}),
      },
      service: {
        status: `${settings.endpoint}/builds/agent/${row.id}`,
        token: secrets.agentToken,
        insecure: settings.insecure ? "True" : "False",
      },
      synnefo: { url: settings.authUrl, token: secrets.userToken },
      log: { container: log.container, object: log.object, ...(log.account ? { account: log.account } : {}) },
      source: policyToManifest(settings.sourcePolicy),
      limits: {
        ...(settings.maxDownloadBytes ? { max_download_bytes: settings.maxDownloadBytes } : {}),
        build_timeout_seconds: settings.buildTimeoutSeconds,
        min_bytes_per_second: settings.minDownloadBytesPerSecond,
        throughput_window_seconds: settings.downloadWindowSeconds,
      },
    },
  };
}
