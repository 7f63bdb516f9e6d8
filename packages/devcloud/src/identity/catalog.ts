/** @module catalog — the service catalog Astakos hands out, pointing at this devcloud. */

export interface CatalogEndpoint {
  versionId: string;
  publicURL: string;
  "SNF:uiURL": string;
  region: string;
}

export interface CatalogEntry {
  name: string;
  type: string;
  endpoints: CatalogEndpoint[];
  endpoints_links: unknown[];
}

/**
 * The entries of synnefo-api.md §1.3 for a devcloud at `url`. From 0.19 the image endpoint has no
 * version (`SNF:exposeVersion: False`), so clients must apply kamaki's version rule; before, it is
 * `…/image/v1.0`.
 */
export function serviceCatalog(url: string, unversionedImage = true): CatalogEntry[] {
  const entry = (name: string, type: string, versionId: string, publicURL: string): CatalogEntry => ({
    name,
    type,
    endpoints: [{ versionId, publicURL, "SNF:uiURL": `${url}/ui`, region: "default" }],
    endpoints_links: [],
  });
  return [
    entry("astakos_identity", "identity", "v2.0", `${url}/identity/v2.0`),
    entry("astakos_account", "account", "v1.0", `${url}/account/v1.0`),
    entry("cyclades_compute", "compute", "v2.0", `${url}/compute/v2.0`),
    entry("cyclades_plankton", "image", "v1.0", unversionedImage ? `${url}/image` : `${url}/image/v1.0`),
    entry("pithos_object-store", "object-store", "v1", `${url}/object-store/v1`),
  ];
}
