import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEMO_TOKEN, type Devcloud } from "@icaas/devcloud";
import { startTempDevcloud } from "@icaas/devcloud/testing";
import { type Connection, connect, parseLocation } from "@icaas/synnefo";
import { AgentLog } from "../log.ts";
import type { Manifest } from "../manifest.ts";
import { registerStep } from "./register.ts";
import type { BuildContext, BuildState } from "./step.ts";

// The register step against the strictest Synnefo the devcloud plays (0.16, its default).
describe("register step against Synnefo 0.16", () => {
  let cloud: Devcloud;
  let me: Connection;

  before(async () => {
    cloud = await startTempDevcloud("icaas-register-");
    me = await connect({ authUrl: cloud.authUrl, token: DEMO_TOKEN, retries: 0 });
    await me.pithos.createContainer("images");
  });
  after(async () => {
    await cloud.close();
  });

  async function register(object: string, metadata: Record<string, string>) {
    await me.pithos.putObject("images", object, "disk", { contentType: "application/octet-stream" });
    const log = new AgentLog();
    const ctx = {
      manifest: { image: { name: "Img", public: false, description: undefined } } as unknown as Manifest,
      services: { imageStore: me.pithos, plankton: me.plankton, imageAccount: me.user.uuid },
      log,
    } as unknown as BuildContext;
    const state: BuildState = { metadata, upload: { container: "images", object, bytes: 4 } };
    await registerStep.run(ctx, state, () => {});
    return { state, log: log.tail(50).join("\n"), object: await me.pithos.headObject("images", object) };
  }

  it("registers the object under its own name, %-escapes and spaces included (quoted per segment)", async () => {
    const name = "builds/100%41 off.diskdump";
    const { state, object } = await register(name, { OSFAMILY: "linux" });
    assert.equal(state.image?.id, object.uuid);
    assert.equal(parseLocation(state.image?.location ?? "")?.object, name);
    assert.equal(parseLocation(state.location ?? "")?.object, name);
  });

  it("keeps property values within Plankton's 256 characters, logging what was left out", async () => {
    const users = Array.from({ length: 40 }, (_, i) => `user${String(i).padStart(3, "0")}`);
    const { state, log } = await register("long.diskdump", {
      OSFAMILY: "linux",
      USERS: users.join(" "),
      NOTE: "x".repeat(300),
    });
    const kept = state.image?.properties.users ?? "";
    assert.ok(kept.length <= 256, `${kept.length} characters`);
    const keptUsers = kept.split(" ");
    assert.deepEqual(keptUsers, users.slice(0, keptUsers.length), "whole user names, in order");
    assert.ok(keptUsers.length >= 30);
    assert.equal(state.image?.properties.note, undefined);
    assert.equal(state.image?.properties.osfamily, "linux");
    const leftOut = users.slice(keptUsers.length).join(" ");
    assert.match(log, new RegExp(`USERS .*256.*: ${leftOut}$`, "m"));
    assert.match(log, /NOTE .*256.*dropped/);
  });
});
