import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { PlanktonClient } from "./plankton.ts";
import { pithosLocation } from "./plankton-headers.ts";

let server: Server;
let seen: IncomingMessage[] = [];
let base: string;

before(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    req.resume();
    // Echo what Plankton would: the image in headers, quoted the way Synnefo quotes.
    res.writeHead(200, {
      "x-image-meta-id": "uuid-1",
      "x-image-meta-name": req.headers["x-image-meta-name"] ?? "",
      "x-image-meta-location": req.headers["x-image-meta-location"] ?? "",
      "x-image-meta-is-public": "False",
      "x-image-meta-property-root-partition": "1",
      "content-length": 0,
    });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/image/v1.0`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("PlanktonClient on the wire", () => {
  it("registers with a header-only POST: quoted values, dashed property names, no body", async () => {
    seen = [];
    const client = new PlanktonClient({ imageUrl: base, token: "t0k" });
    const image = await client.register({
      name: "Debian 12 “bookworm”",
      location: pithosLocation("u", "images", "deb 12.raw"),
      diskFormat: "diskdump",
      isPublic: false,
      properties: { ROOT_PARTITION: "1", users: "root user", OS: "debian/12" },
    });
    const req = seen[0];
    assert.ok(req);
    assert.equal(req.method, "POST");
    assert.equal(req.url, "/image/v1.0/images/");
    assert.equal(req.headers["x-auth-token"], "t0k");
    assert.equal(req.headers["x-image-meta-name"], "Debian%2012%20%E2%80%9Cbookworm%E2%80%9D");
    assert.equal(req.headers["x-image-meta-location"], "pithos://u/images/deb%2012.raw");
    assert.equal(req.headers["x-image-meta-disk-format"], "diskdump");
    assert.equal(req.headers["x-image-meta-is-public"], "false");
    assert.equal(req.headers["x-image-meta-property-root-partition"], "1");
    assert.equal(req.headers["x-image-meta-property-users"], "root%20user");
    assert.equal(req.headers["x-image-meta-property-os"], "debian%2F12");
    assert.ok(!Object.keys(req.headers).some((k) => k.includes("_")), "no underscore in header names");
    assert.ok(!req.headers["content-type"], "no body");
    assert.equal(image.name, "Debian 12 “bookworm”");
    assert.deepEqual(image.properties, { root_partition: "1" });
    assert.equal(image.isPublic, false);
  });
});
