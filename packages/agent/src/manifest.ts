/** @module manifest — the INI manifest in the VM, the full manifest fetched once from the service. */
import { readFile } from "node:fs/promises";
import {
  ManifestProblem,
  type ParsedManifest,
  parseManifest,
  parseServiceSection,
  type RawManifest,
  toRawManifest,
} from "@icaas/contract";
import { policyFromManifest, type SourcePolicy } from "@icaas/source-policy";
import { parse as parseIni } from "ini";
import { type AgentError, agentErrors } from "./errors.ts";
import { requestJson } from "./http-json.ts";

export type { RawManifest };

/** The manifest the agent builds from: the contract's, with the source policy parsed. */
export interface Manifest extends Omit<ParsedManifest, "source"> {
  /** Where the source may point (`[source]`); the default policy when the section is absent. */
  source: SourcePolicy;
}

/**
 * Why the agent could not even learn where to report: the original exited 2 (unreadable file) or 3
 * (fetch failed, no service section) without telling the service. So do we; the service's manifest
 * timeout ends such builds.
 */
export class ManifestLoadError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = "ManifestLoadError";
    this.exitCode = exitCode;
  }
}

/** Reads the INI file; every value becomes a string (ini turns `true` into a boolean). */
export async function readManifestFile(path: string): Promise<RawManifest> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ManifestLoadError(`Cannot read manifest ${path}: ${(error as Error).message}`, 2);
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = parseIni(text) as Record<string, unknown>;
  } catch (error) {
    throw new ManifestLoadError(`Cannot parse manifest ${path}: ${(error as Error).message}`, 2);
  }
  return toRawManifest(parsed);
}

/** The manifest URL with its one-time nonce hidden, for log lines. */
export function redactManifestUrl(url: string): string {
  return url.replace(/\/[^/]+\/?$/, "/…");
}

/**
 * When `[manifest] url` is set, fetches the full manifest (once; it is served once) and merges its
 * sections over the file's, whole sections replacing whole sections as the original's
 * `dict.update` did. A manifest with every section inline is returned as it is.
 */
export async function completeManifest(
  raw: RawManifest,
  options: { retries?: number; backoffMs?: number; timeoutMs?: number } = {},
): Promise<RawManifest> {
  const url = raw.manifest?.url;
  if (!url) return raw;
  const retries = options.retries ?? 5;
  let lastProblem = "";
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0)
      await new Promise((r) => setTimeout(r, (options.backoffMs ?? 1000) * 2 ** (attempt - 1)));
    let res: Awaited<ReturnType<typeof requestJson>>;
    try {
      res = await requestJson({ method: "GET", url, timeoutMs: options.timeoutMs ?? 30_000 });
    } catch (error) {
      lastProblem = `(0) ${(error as Error).message}`;
      continue;
    }
    if (res.status >= 500) {
      lastProblem = `(${res.status}) ${res.text.slice(0, 200)}`;
      continue;
    }
    if (res.status !== 200) {
      throw new ManifestLoadError(
        `Fetching manifest from ${redactManifestUrl(url)} failed: (${res.status}) ${res.text.slice(0, 300)}`,
        3,
      );
    }
    const body = res.json as { manifest?: unknown } | undefined;
    if (!body || typeof body.manifest !== "object" || body.manifest === null) {
      throw new ManifestLoadError(
        `Fetching manifest from ${redactManifestUrl(url)} failed: the answer holds no manifest`,
        3,
      );
    }
    return { ...raw, ...toRawManifest(body.manifest as Record<string, unknown>) };
  }
  throw new ManifestLoadError(`Fetching manifest from ${redactManifestUrl(url)} failed: ${lastProblem}`, 3);
}

/** Where and how to report; without these nothing can be reported (exit 3, as the original). */
export function serviceSettings(raw: RawManifest): Manifest["service"] {
  try {
    return parseServiceSection(raw);
  } catch (error) {
    if (error instanceof ManifestProblem) throw new ManifestLoadError(error.message, 3);
    throw error;
  }
}

function invalid(problem: ManifestProblem): AgentError {
  return agentErrors.manifestInvalid(problem.message, problem.hint);
}

/**
 * Checks the required keys in the original's order and with its messages, and types the rest; the
 * `[service]` section is the one `serviceSettings` read already. Throws `AgentError`
 * `manifest_invalid` (the service is told).
 */
export function validateManifest(raw: RawManifest, service = serviceSettings(raw)): Manifest {
  let parsed: ParsedManifest;
  try {
    parsed = parseManifest(raw, service);
  } catch (error) {
    throw error instanceof ManifestProblem ? invalid(error) : error;
  }
  let source: SourcePolicy;
  try {
    source = policyFromManifest(parsed.source);
  } catch (error) {
    throw invalid(new ManifestProblem(`The source policy is not valid: ${(error as Error).message}`));
  }
  return { ...parsed, source };
}
