import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type CatalogEntry, ServiceCatalog, withVersion } from "./catalog.ts";
import { SynnefoError } from "./errors.ts";

const entry = (type: string, publicURL: string): CatalogEntry => ({
  name: `x_${type}`,
  type,
  endpoints: [{ versionId: "v1", publicURL }],
  endpoints_links: [],
});

describe("withVersion (kamaki's rule)", () => {
  it("appends the default version when the URL has none", () => {
    assert.equal(withVersion("image", "https://c.example.org/image"), "https://c.example.org/image/v1.0");
    assert.equal(withVersion("image", "https://c.example.org/image/"), "https://c.example.org/image/v1.0");
    assert.equal(
      withVersion("compute", "https://c.example.org/compute"),
      "https://c.example.org/compute/v2.0",
    );
    assert.equal(
      withVersion("network", "https://c.example.org/network"),
      "https://c.example.org/network/v2.0",
    );
    assert.equal(
      withVersion("object-store", "https://p.example.org/object-store"),
      "https://p.example.org/object-store/v1",
    );
  });

  it("keeps a URL that already ends in a version, with or without a minor part", () => {
    assert.equal(
      withVersion("image", "https://c.example.org/plankton/v1.0"),
      "https://c.example.org/plankton/v1.0",
    );
    assert.equal(withVersion("image", "https://c.example.org/image/v1"), "https://c.example.org/image/v1");
    assert.equal(
      withVersion("object-store", "https://p/pithos/object-store/v1/"),
      "https://p/pithos/object-store/v1",
    );
    assert.equal(withVersion("compute", "https://c/compute/v2."), "https://c/compute/v2.");
  });

  it("leaves identity and account URLs alone", () => {
    assert.equal(withVersion("identity", "https://a/identity/v2.0"), "https://a/identity/v2.0");
    assert.equal(withVersion("account", "https://a/account"), "https://a/account");
  });
});

describe("ServiceCatalog", () => {
  it("selects endpoints by type, taking the first that has a publicURL", () => {
    const catalog = new ServiceCatalog([
      entry("compute", "https://c/compute/v2.0"),
      { name: "img", type: "image", endpoints: [{ publicURL: "" }, { publicURL: "https://c/image" }] },
    ]);
    assert.equal(catalog.endpoint("compute"), "https://c/compute/v2.0");
    assert.equal(catalog.endpoint("image"), "https://c/image/v1.0");
    assert.ok(catalog.has("image"));
    assert.ok(!catalog.has("volume"));
    assert.deepEqual(JSON.parse(JSON.stringify(catalog))[0].type, "compute");
  });

  it("throws endpointNotFound for a missing type", () => {
    const catalog = new ServiceCatalog([entry("compute", "https://c/compute")]);
    assert.throws(
      () => catalog.endpoint("object-store"),
      (e) => e instanceof SynnefoError && e.code === "endpointNotFound" && /object-store/.test(e.message),
    );
  });
});
