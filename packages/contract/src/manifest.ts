/**
 * @module manifest — the one-time manifest: the sections the service sends, the strings the agent
 * holds after the INI file and the JSON, and the parse back to typed settings. The string form is
 * derived from the typed one, so a key renamed on one side does not compile on the other.
 */
import { CHECKSUM_HEX_LENGTH, type ChecksumAlgorithm } from "./validation.ts";

/** Booleans as the original's shell agent read them. */
export type IniBoolean = "True" | "False";

/** What `GET /icaas/builds/agent/{id}/{nonce}` answers in `{"manifest": …}`; optional keys only when set. */
export interface ManifestSections {
  progress: { heuristic: number; interval: number };
  image: {
    src: string;
    name: string;
    container: string;
    object: string;
    public?: IniBoolean;
    description?: string;
    checksum?: string;
    account?: string;
  };
  service: { status: string; token: string; insecure: IniBoolean };
  synnefo: { url: string; token: string };
  log: { container: string; object: string; account?: string };
  /** The source policy (`@icaas/source-policy`'s `policyToManifest`). */
  source?: { allow_private: string; allow: string; deny?: string };
  limits?: {
    max_download_bytes?: number;
    build_timeout_seconds?: number;
    min_bytes_per_second?: number;
    throughput_window_seconds?: number;
  };
}

/**
 * The manifest as the agent holds it: the INI file in the VM (`[manifest] url` only, or every section
 * inline) with the fetched sections over it, every value a string, any key possibly missing.
 */
export type RawManifest = {
  [S in keyof ManifestSections]?: { [K in keyof NonNullable<ManifestSections[S]>]?: string };
} & { manifest?: { url?: string } };

/** Defaults of the values a manifest may leave out; the service's configuration defaults are these. */
export const MANIFEST_DEFAULTS = {
  progressIntervalSeconds: 5,
  progressHeuristic: 6.75,
  /** 20 GiB */
  maxDownloadBytes: 20 * 2 ** 30,
  /** A download connection under this rate over the window is dropped; 0 = off. */
  minBytesPerSecond: 32 * 1024,
  throughputWindowSeconds: 60,
} as const;

export interface ServiceSettings {
  status: string;
  token: string;
  insecure: boolean;
}

export interface Checksum {
  algorithm: ChecksumAlgorithm;
  hex: string;
}

/** The manifest, typed and checked. */
export interface ParsedManifest {
  service: ServiceSettings;
  synnefo: { url: string; token: string };
  image: {
    src: string;
    name: string;
    container: string;
    object: string;
    public: boolean;
    description: string | undefined;
    checksum: Checksum | undefined;
    account: string | undefined;
  };
  log: { container: string; object: string; account: string | undefined };
  progress: { intervalSeconds: number; heuristic: number };
  limits: {
    maxDownloadBytes: number;
    buildTimeoutSeconds: number | undefined;
    minBytesPerSecond: number;
    throughputWindowSeconds: number;
  };
  /** `[source]` as sent (absent: the default policy); `@icaas/source-policy` parses it. */
  source: RawManifest["source"];
}

/** Why a manifest cannot be used, in the original agent's words; `hint` says what the user can do. */
export class ManifestProblem extends Error {
  override readonly name = "ManifestProblem";
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Turns parsed INI or JSON (`{section: {key: any}}`) into strings; non-object top-level keys are dropped. */
export function toRawManifest(input: Record<string, unknown>): RawManifest {
  const out: Record<string, Record<string, string>> = {};
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

function missing(key: string, section: string): string {
  return `\`${key}' is missing from the \`${section}' section of the manifest`;
}

/** Where and how to report; without these the agent can report nothing (the original exited 3). */
export function parseServiceSection(raw: RawManifest): ServiceSettings {
  const status = raw.service?.status;
  const token = raw.service?.token;
  if (!status) throw new ManifestProblem(missing("status", "service"));
  if (!token) throw new ManifestProblem(missing("token", "service"));
  return { status, token, insecure: (raw.service?.insecure ?? "").toLowerCase() === "true" };
}

/** The report interval and progress weighting; needed before the rest is checked (to report it). */
export function parseProgress(raw: RawManifest): ParsedManifest["progress"] {
  const interval = Number(raw.progress?.interval ?? MANIFEST_DEFAULTS.progressIntervalSeconds);
  const heuristic = Number(raw.progress?.heuristic ?? MANIFEST_DEFAULTS.progressHeuristic);
  return {
    // The original meant to refuse intervals under 5 s but its test lacked a `$`; tests want short ones.
    intervalSeconds:
      Number.isFinite(interval) && interval > 0
        ? Math.max(interval, 0.2)
        : MANIFEST_DEFAULTS.progressIntervalSeconds,
    heuristic: heuristic || MANIFEST_DEFAULTS.progressHeuristic,
  };
}

/** The keys without which nothing can be built, in the original's order of checks. */
const REQUIRED = [
  ["synnefo", "url"],
  ["synnefo", "token"],
  ["image", "src"],
  ["image", "name"],
  ["image", "container"],
  ["image", "object"],
  ["log", "container"],
  ["log", "object"],
] as const;

/**
 * Checks the required keys in the original's order and with its messages, and types the rest.
 * `service` is the already parsed `[service]` section (the agent needs it first, to report).
 * Throws `ManifestProblem`.
 */
export function parseManifest(raw: RawManifest, service: ServiceSettings): ParsedManifest {
  for (const [section, key] of REQUIRED) {
    if (!(raw[section] as Record<string, string> | undefined)?.[key])
      throw new ManifestProblem(missing(key, section));
  }
  const image = raw.image!;
  const src = image.src!;
  let srcUrl: URL;
  try {
    srcUrl = new URL(src);
  } catch {
    throw new ManifestProblem(`The image source \`${src}' is not a URL`, "Give an http:// or https:// URL");
  }
  if (srcUrl.protocol !== "http:" && srcUrl.protocol !== "https:") {
    throw new ManifestProblem(`The image source must be an http or https URL, not ${srcUrl.protocol}`);
  }
  const limits = raw.limits ?? {};
  const maxDownload = Number(limits.max_download_bytes ?? MANIFEST_DEFAULTS.maxDownloadBytes);
  const timeout =
    limits.build_timeout_seconds === undefined ? undefined : Number(limits.build_timeout_seconds);
  if (!Number.isFinite(maxDownload) || maxDownload <= 0)
    throw new ManifestProblem("`max_download_bytes' is not a number");
  if (timeout !== undefined && !(timeout > 0))
    throw new ManifestProblem("`build_timeout_seconds' is not a number");
  const minRate = Number(limits.min_bytes_per_second ?? MANIFEST_DEFAULTS.minBytesPerSecond);
  const window = Number(limits.throughput_window_seconds ?? MANIFEST_DEFAULTS.throughputWindowSeconds);
  if (!(minRate >= 0)) throw new ManifestProblem("`min_bytes_per_second' is not a number");
  if (!(window > 0)) throw new ManifestProblem("`throughput_window_seconds' is not a number");
  const log = raw.log!;
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
    log: { container: log.container!, object: log.object!, account: log.account || undefined },
    progress: parseProgress(raw),
    limits: {
      maxDownloadBytes: maxDownload,
      buildTimeoutSeconds: timeout,
      minBytesPerSecond: minRate,
      throughputWindowSeconds: window,
    },
    source: raw.source,
  };
}

/** `sha256:<hex>` (also md5/sha1/sha512), or bare hex whose length names the algorithm. */
export function parseChecksum(text: string): Checksum {
  const match = /^(?:(md5|sha1|sha256|sha512):)?([0-9a-fA-F]+)$/.exec(text.trim());
  const hex = match?.[2]?.toLowerCase() ?? "";
  const algorithm =
    (match?.[1] as ChecksumAlgorithm | undefined) ??
    (Object.entries(CHECKSUM_HEX_LENGTH).find(([, n]) => n === hex.length)?.[0] as
      | ChecksumAlgorithm
      | undefined);
  if (!match || !algorithm || CHECKSUM_HEX_LENGTH[algorithm] !== hex.length) {
    throw new ManifestProblem(
      `The checksum \`${text}' is not valid`,
      "Give it as sha256:<64 hex digits> (md5, sha1 and sha512 work too)",
    );
  }
  return { algorithm, hex };
}
