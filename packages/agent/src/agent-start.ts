/** @module agent-start — before anything can be reported: the run-once marker, the manifest and where to report. */
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { MARKER_PATH } from "@icaas/contract";
import type { AgentLog } from "./log.ts";
import {
  completeManifest,
  type Manifest,
  ManifestLoadError,
  type RawManifest,
  readManifestFile,
  redactManifestUrl,
  serviceSettings,
} from "./manifest.ts";

/**
 * Removes the `/.icaas` marker, so a reboot does not start the build again; false when it was
 * absent (this machine has run its build already).
 */
export async function claimRun(root: string, log: AgentLog): Promise<boolean> {
  const marker = join(root, MARKER_PATH);
  if (!existsSync(marker)) {
    log.info(`${marker} is absent: this machine has run its build already; nothing to do`);
    return false;
  }
  await rm(marker, { force: true });
  return true;
}

export type LoadedManifest = { raw: RawManifest; service: Manifest["service"] } | { exitCode: number };

/**
 * Reads the manifest file and fetches the full manifest it points to. A manifest that cannot be
 * read or fetched, or says nowhere to report, gives the exit code (2 or 3, as the original): the
 * service is not told, its manifest timeout ends such builds. The secrets are redacted from the log.
 */
export async function loadManifest(
  path: string,
  log: AgentLog,
  options: { backoffMs?: number },
): Promise<LoadedManifest> {
  try {
    const file = await readManifestFile(path);
    const url = file.manifest?.url;
    if (url) {
      // The nonce is spent once fetched, but there is no reason to show it.
      log.redact(url.split("/").pop());
      log.info(`fetching the manifest from ${redactManifestUrl(url)}`);
    }
    const raw = await completeManifest(file, { backoffMs: options.backoffMs });
    const service = serviceSettings(raw);
    log.redact(service.token);
    log.redact(raw.synnefo?.token);
    return { raw, service };
  } catch (error) {
    if (!(error instanceof ManifestLoadError)) throw error;
    log.error(error.message);
    return { exitCode: error.exitCode };
  }
}
