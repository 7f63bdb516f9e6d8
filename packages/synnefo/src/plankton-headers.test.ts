import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  imageFromHeaders,
  imageFromJson,
  normalizeLocation,
  normalizePropertyKey,
  parseLocation,
  pithosLocation,
  propertyHeader,
  quoteValue,
  unquoteValue,
} from "./plankton-headers.ts";

describe("Plankton headers", () => {
  it("names property headers with dashes, upper-case, and quotes what a header name cannot hold", () => {
    assert.equal(propertyHeader("root_partition"), "X-Image-Meta-Property-ROOT-PARTITION");
    assert.equal(propertyHeader("OSFAMILY"), "X-Image-Meta-Property-OSFAMILY");
    assert.equal(
      propertyHeader("exclude_task_FixPartitionTable"),
      "X-Image-Meta-Property-EXCLUDE-TASK-FIXPARTITIONTABLE",
    );
    assert.equal(propertyHeader("a b"), "X-Image-Meta-Property-A%20B");
  });

  it("normalises keys as Plankton does (lower case, punctuation → _)", () => {
    assert.equal(normalizePropertyKey("ROOT-PARTITION"), "root_partition");
    assert.equal(normalizePropertyKey("A%20B"), "a b");
    assert.equal(normalizePropertyKey("x.y:z"), "x_y_z");
  });

  it("quotes values as UTF-8 and reads them back; broken escapes stay as they are", () => {
    const text = "Ä/ö & 100% “x”";
    assert.equal(unquoteValue(quoteValue(text)), text);
    assert.match(quoteValue(text), /^[\x21-\x7e]+$/);
    assert.equal(unquoteValue("50%"), "50%");
  });

  it("builds, normalises and parses pithos:// locations", () => {
    const loc = pithosLocation("uuid", "my images", "dir/Debian 12.raw");
    assert.equal(loc, "pithos://uuid/my%20images/dir/Debian%2012.raw");
    assert.deepEqual(parseLocation(loc), {
      account: "uuid",
      container: "my images",
      object: "dir/Debian 12.raw",
    });
    assert.equal(normalizeLocation("pithos://u/c/a b/ü"), "pithos://u/c/a%20b/%C3%BC");
    assert.equal(normalizeLocation(loc), loc);
    assert.equal(parseLocation("pithos://u/c"), undefined);
    assert.equal(parseLocation("http://u/c/o"), undefined);
  });

  it("reads an image from answer headers", () => {
    const image = imageFromHeaders({
      "x-image-meta-id": "id-1",
      "x-image-meta-name": "Debian%2012%20%E2%9C%93",
      "x-image-meta-location": "pithos://u/c/o",
      "x-image-meta-disk-format": "diskdump",
      "x-image-meta-container-format": "bare",
      "x-image-meta-size": "4096",
      "x-image-meta-checksum": "abc",
      "x-image-meta-status": "available",
      "x-image-meta-is-public": "True",
      "x-image-meta-owner": "u",
      "x-image-meta-is-snapshot": "False",
      "x-image-meta-created-at": "2024-01-02 03:04:05",
      "x-image-meta-updated-at": "",
      "x-image-meta-property-root-partition": "1",
      "x-image-meta-property-description": "a%20b",
      "content-length": "0",
    });
    assert.deepEqual(image, {
      id: "id-1",
      name: "Debian 12 ✓",
      location: "pithos://u/c/o",
      diskFormat: "diskdump",
      containerFormat: "bare",
      status: "AVAILABLE",
      isPublic: true,
      owner: "u",
      size: 4096,
      checksum: "abc",
      properties: { root_partition: "1", description: "a b" },
      createdAt: "2024-01-02 03:04:05",
      updatedAt: undefined,
      isSnapshot: false,
    });
  });

  it("reads list items, short and detailed", () => {
    const short = imageFromJson({
      id: "i",
      name: "n",
      status: "AVAILABLE",
      disk_format: "diskdump",
      container_format: "bare",
      size: 3,
    });
    assert.equal(short.size, 3);
    assert.deepEqual(short.properties, {});
    const detail = imageFromJson({
      id: "i",
      is_public: true,
      properties: { os: "debian", n: 1 },
      owner: "u",
    });
    assert.equal(detail.isPublic, true);
    assert.deepEqual(detail.properties, { os: "debian", n: "1" });
  });
});
