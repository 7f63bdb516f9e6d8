/** @module catalog — Astakos' service catalog, with kamaki's rule for endpoints published without a version. */
import { SynnefoError } from "./errors.ts";

/** The service types ICaaS looks up in the catalog. */
export type ServiceType =
  | "identity"
  | "account"
  | "compute"
  | "image"
  | "object-store"
  | "network"
  | "volume";

/** One entry of `access.serviceCatalog`, as Astakos sends it. */
export interface CatalogEntry {
  name: string;
  type: string;
  endpoints: {
    versionId?: string;
    publicURL: string;
    "SNF:uiURL"?: string;
    region?: string;
    [key: string]: unknown;
  }[];
  endpoints_links?: unknown[];
}

/**
 * The version kamaki appends when a publicURL does not end in one (`Client.__init__`). Plankton, network
 * and volume are published without it on a default deployment; identity and account always carry theirs.
 */
const DEFAULT_VERSIONS: Partial<Record<ServiceType, string>> = {
  compute: "2.0",
  network: "2.0",
  volume: "2.0",
  image: "1.0",
  "object-store": "1",
};

const ENDS_IN_VERSION = /\/v\d+(\.\d*)?$/;

/**
 * The endpoints of a Synnefo deployment, selected by type as kamaki does.
 *
 * @example
 * const catalog = new ServiceCatalog(access.serviceCatalog);
 * catalog.endpoint("image"); // "https://cyclades.example.org/image/v1.0"
 */
export class ServiceCatalog {
  readonly entries: readonly CatalogEntry[];

  constructor(entries: readonly CatalogEntry[]) {
    this.entries = entries;
  }

  /** The base URL of a service type, without a trailing slash and with its API version. */
  endpoint(type: ServiceType): string {
    const entry = this.entries.find((e) => e.type === type);
    const raw = entry?.endpoints.find(
      (e) => typeof e.publicURL === "string" && e.publicURL !== "",
    )?.publicURL;
    if (!raw) {
      throw new SynnefoError({
        status: 0,
        code: "endpointNotFound",
        message: `the service catalog has no ${type} endpoint`,
        service: "identity",
      });
    }
    return withVersion(type, raw);
  }

  /** True when the catalog lists an endpoint of this type. */
  has(type: ServiceType): boolean {
    return this.entries.some((e) => e.type === type && e.endpoints.length > 0);
  }

  toJSON(): readonly CatalogEntry[] {
    return this.entries;
  }
}

/** Applies the version rule to one publicURL: `…/image` → `…/image/v1.0`, `…/image/v1.0` unchanged. */
export function withVersion(type: ServiceType, publicUrl: string): string {
  const url = publicUrl.replace(/\/+$/, "");
  const version = DEFAULT_VERSIONS[type];
  if (version === undefined || ENDS_IN_VERSION.test(url)) return url;
  return `${url}/v${version}`;
}
