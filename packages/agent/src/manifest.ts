/** @module manifest — the INI manifest in the VM, the full manifest fetched once from the service. */
import { readFile } from "node:fs/promises";
import { policyFromManifest, type SourcePolicy } from "@icaas/source-policy";
import { parse as parseIni } from "ini";
import { DEFAULT_THROUGHPUT } from "./download/throughput-guard.ts";
import { AgentError } from "./errors.ts";
import { requestJson } from "./http-json.ts";

/** Sections of key → string, as the INI file (or the service's JSON) holds them. */
export type RawManifest = Record<string, Record<string, string>>;

export interface Manifest {
  service: { status: string; token: string; insecure: boolean };
  synnefo: { url: string; token: string };
  image: {
    src: string;
    name: string;
    container: string;
    object: string;
    public: boolean;
    description: string | undefined;
    checksum: { algorithm: "sha256" | "sha512" | "sha1" | "md5"; hex: string } | undefined;
    account: string | undefined;
  };
  log: { container: string; object: string; account: string | undefined };
  progress: { intervalSeconds: number; heuristic: number };
  limits: {
    maxDownloadBytes: number;
    buildTimeoutSeconds: number | undefined;
    /** A download connection under this rate over `throughputWindowSeconds` is dropped; 0 = off. */
    minBytesPerSecond: number;
    throughputWindowSeconds: number;
  };
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

/** Default cap on the downloaded file when the manifest sets none: 20 GiB, as the service's default. */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 20 * 2 ** 30;

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
  return normalize(parsed);
}

/** Turns `{section: {key: any}}` into strings; non-object top-level keys are dropped. */
export function normalize(input: Record<string, unknown>): RawManifest {
  const out: RawManifest = {};
  for (const [section, value] of Object.entries(input)) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) continue;
    const keys: Record<string, string> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined || v === null) continue;
      keys[k] = typeof v === "object" ? JSON.stringify(v) : String(v);
    }
    out[section] = keys;
  }
  return out;
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
    return { ...raw, ...normalize(body.manifest as Record<string, unknown>) };
  }
  throw new ManifestLoadError(`Fetching manifest from ${redactManifestUrl(url)} failed: ${lastProblem}`, 3);
}

/** Where and how to report; without these nothing can be reported (exit 3, as the original). */
export function serviceSettings(raw: RawManifest): Manifest["service"] {
  const status = raw.service?.status;
  const token = raw.service?.token;
  if (!status) throw new ManifestLoadError(missing("status", "service"), 3);
  if (!token) throw new ManifestLoadError(missing("token", "service"), 3);
  return { status, token, insecure: (raw.service?.insecure ?? "").toLowerCase() === "true" };
}

function missing(key: string, section: string): string {
  return `\`${key}' is missing from the \`${section}' section of the manifest`;
}

const REQUIRED: [section: string, key: string][] = [
  ["synnefo", "url"],
  ["synnefo", "token"],
  ["image", "src"],
  ["image", "name"],
  ["image", "container"],
  ["image", "object"],
  ["log", "container"],
  ["log", "object"],
];

function invalid(message: string, hint?: string): AgentError {
  return new AgentError({ code: "manifest_invalid", step: "manifest", message, hint });
}

/**
 * Checks the required keys in the original's order and with its messages, and types the rest.
 * Throws `AgentError` `manifest_invalid` (the service is told).
 */
export function validateManifest(raw: RawManifest): Manifest {
  const service = serviceSettings(raw);
  for (const [section, key] of REQUIRED) {
    if (!raw[section]?.[key]) throw invalid(missing(key, section));
  }
  const image = raw.image!;
  const src = image.src!;
  let srcUrl: URL;
  try {
    srcUrl = new URL(src);
  } catch {
    throw invalid(`The image source \`${src}' is not a URL`, "Give an http:// or https:// URL");
  }
  if (srcUrl.protocol !== "http:" && srcUrl.protocol !== "https:") {
    throw invalid(`The image source must be an http or https URL, not ${srcUrl.protocol}`);
  }
  const progress = raw.progress ?? {};
  const limits = raw.limits ?? {};
  const interval = Number(progress.interval ?? 5);
  const maxDownload = Number(limits.max_download_bytes ?? DEFAULT_MAX_DOWNLOAD_BYTES);
  const timeout =
    limits.build_timeout_seconds === undefined ? undefined : Number(limits.build_timeout_seconds);
  if (!Number.isFinite(maxDownload) || maxDownload <= 0)
    throw invalid("`max_download_bytes' is not a number");
  if (timeout !== undefined && !(timeout > 0)) throw invalid("`build_timeout_seconds' is not a number");
  const minRate = Number(limits.min_bytes_per_second ?? DEFAULT_THROUGHPUT.minBytesPerSecond);
  const window = Number(limits.throughput_window_seconds ?? DEFAULT_THROUGHPUT.windowMs / 1000);
  if (!(minRate >= 0)) throw invalid("`min_bytes_per_second' is not a number");
  if (!(window > 0)) throw invalid("`throughput_window_seconds' is not a number");
  let source: SourcePolicy;
  try {
    source = policyFromManifest(raw.source);
  } catch (error) {
    throw invalid(`The source policy is not valid: ${(error as Error).message}`);
  }
  return {
    service,
    synnefo: { url: raw.synnefo!.url!, token: raw.synnefo!.token! },
    image: {
      src,
      name: image.name!,
      container: image.container!,
      object: image.object!,
      public: (image.public ?? "").toLowerCase() === "true",
      description: image.description,
      checksum: image.checksum ? parseChecksum(image.checksum) : undefined,
      account: image.account || undefined,
    },
    log: { container: raw.log!.container!, object: raw.log!.object!, account: raw.log!.account || undefined },
    progress: {
      // The original meant to refuse intervals under 5 s but its test lacked a `$`; tests want short ones.
      intervalSeconds: Number.isFinite(interval) && interval > 0 ? Math.max(interval, 0.2) : 5,
      heuristic: Number(progress.heuristic ?? 6.75) || 6.75,
    },
    limits: {
      maxDownloadBytes: maxDownload,
      buildTimeoutSeconds: timeout,
      minBytesPerSecond: minRate,
      throughputWindowSeconds: window,
    },
    source,
  };
}

const HEX_LENGTH = { md5: 32, sha1: 40, sha256: 64, sha512: 128 } as const;

/** `sha256:<hex>` (also md5/sha1/sha512), or bare hex whose length names the algorithm. */
export function parseChecksum(text: string): NonNullable<Manifest["image"]["checksum"]> {
  const match = /^(?:(md5|sha1|sha256|sha512):)?([0-9a-fA-F]+)$/.exec(text.trim());
  const hex = match?.[2]?.toLowerCase() ?? "";
  const algorithm =
    (match?.[1] as keyof typeof HEX_LENGTH | undefined) ??
    (Object.entries(HEX_LENGTH).find(([, n]) => n === hex.length)?.[0] as
      | keyof typeof HEX_LENGTH
      | undefined);
  if (!match || !algorithm || HEX_LENGTH[algorithm] !== hex.length) {
    throw invalid(
      `The checksum \`${text}' is not valid`,
      "Give it as sha256:<64 hex digits> (md5, sha1 and sha512 work too)",
    );
  }
  return { algorithm, hex };
}
