import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEMO_TOKEN, DEMO_USER_UUID, type Devcloud, defaultConfig, SYNNEFO_RELEASES } from "@icaas/devcloud";
import { startTempDevcloud } from "@icaas/devcloud/testing";
import { type Connection, connect } from "./connect.ts";
import { parseLocation, pithosLocation } from "./plankton-headers.ts";

// The clients, through the catalog, against every Synnefo release the devcloud plays: the register and
// list routes (`images/` up to 0.19), the list's shape, the image endpoint with or without its version.
for (const release of SYNNEFO_RELEASES) {
  describe(`PlanktonClient against Synnefo ${release}`, () => {
    let cloud: Devcloud;
    let me: Connection;

    before(async () => {
      cloud = await startTempDevcloud(`icaas-plankton-${release}-`, {
        config: { ...defaultConfig(), synnefo: release },
      });
      me = await connect({ authUrl: cloud.authUrl, token: DEMO_TOKEN, retries: 0 });
      await me.pithos.createContainer("images");
    });
    after(async () => {
      await cloud.close();
    });

    it("finds the image endpoint in the catalog, registers, lists (short and detail) and reads an image", async () => {
      assert.equal(me.catalog.endpoint("image"), `${cloud.url}/image/v1.0`);
      const name = "a b.raw";
      await me.pithos.putObject("images", name, "disk", { contentType: "application/octet-stream" });
      const image = await me.plankton.register({
        name: "Image",
        location: pithosLocation(DEMO_USER_UUID, "images", name),
        properties: { OSFAMILY: "linux" },
      });
      assert.equal(image.status, "AVAILABLE");
      assert.deepEqual(parseLocation(image.location), {
        account: DEMO_USER_UUID,
        container: "images",
        object: name,
      });
      const short = await me.plankton.list();
      assert.deepEqual(
        short.map((i) => [i.id, i.name]),
        [[image.id, "Image"]],
      );
      const detail = await me.plankton.list({ detail: true });
      assert.equal(detail[0]?.properties.osfamily, "linux");
      assert.equal((await me.plankton.head(image.id)).name, "Image");
    });

    it("registers an object whose name holds %-escapes and slashes under that very name", async () => {
      const name = "dir/100%41 50%-off %zz.raw";
      await me.pithos.putObject("images", name, "escaped", { contentType: "application/octet-stream" });
      const object = await me.pithos.headObject("images", name);
      const image = await me.plankton.register({
        name: "Escaped",
        location: pithosLocation(DEMO_USER_UUID, "images", name),
      });
      assert.equal(image.id, object.uuid);
      assert.equal(parseLocation(image.location)?.object, name);
    });
  });
}
