/** @module builds/source-policy.test — `src` at refused addresses is answered 400 at create, before any VM. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { actAsAgent, call, type Harness, liveServers, startHarness, USER_A } from "../testing/index.ts";

describe("the source policy at create", () => {
  let h: Harness;
  let strict: string;
  before(async () => {
    // The harness allow-lists loopback for the other tests; this one runs with the default policy.
    h = await startHarness({ service: { sourceAllowList: [] } });
    const s = await h.startService({
      sourceAllowPrivate: false,
      sourceAllowList: ["10.9.0.0/16", "mirror.lan:8080"],
    });
    strict = `${s.url}/icaas`;
  });
  after(() => h.close());

  const create = (api: string, src: string) =>
    call(`${api}/builds`, { method: "POST", token: USER_A.token, body: { build: { name: "img", src } } });

  it("refuses loopback, link-local, metadata, unspecified and multicast hosts in any spelling, storing nothing", async () => {
    const refused = [
      "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
      "http://[::ffff:169.254.169.254]/",
      "http://2852039166/",
      "http://0xa9.0xfe.0xa9.0xfe/",
      "http://0251.0376.0251.0376/",
      "http://[fd00:ec2::254]/latest/meta-data/",
      "http://127.0.0.1:8080/x.img",
      "http://0x7f.1/x.img",
      "http://[::1]/x.img",
      "http://localhost:8080/x.img",
      "http://0.0.0.0/x.img",
      "http://[fe80::1]/x.img",
      "http://224.0.0.1/x.img",
    ];
    for (const src of refused) {
      const answer = await create(h.api, src);
      assert.equal(answer.status, 400, src);
      assert.equal(answer.body.code, "source_refused", src);
      assert.match(answer.body.message, /may not point at.*allow-list an on-premises mirror/, src);
    }
    const metadata = await create(h.api, "http://[::ffff:a9fe:a9fe]/");
    assert.match(metadata.body.message, /::ffff:a9fe:a9fe \(169\.254\.169\.254\) is a metadata address/);
    const list = await call(`${h.api}/builds`, { token: USER_A.token });
    assert.deepEqual(list.body.builds, []);
    assert.deepEqual(await liveServers(h.cloud), []);
  });

  it("accepts host names (the agent judges them after DNS) and public and private addresses", async () => {
    for (const src of [
      "https://downloads.example.org/x.img",
      "http://8.8.8.8/x.img",
      "http://10.0.0.5/x.img",
    ]) {
      const answer = await create(h.api, src);
      assert.equal(answer.status, 202, `${src}: ${JSON.stringify(answer.body)}`);
      await call(`${h.api}/builds/${answer.body.build.id}`, { method: "DELETE", token: USER_A.token });
    }
  });

  it("refuses private addresses when configured off, except what the allow-list names", async () => {
    const refused = await create(strict, "http://192.168.1.20/x.img");
    assert.equal(refused.status, 400);
    assert.equal(refused.body.code, "source_refused");
    assert.match(refused.body.message, /192\.168\.1\.20 is a private address/);
    const mirror = await create(strict, "http://10.9.1.1/x.img");
    assert.equal(mirror.status, 202, JSON.stringify(mirror.body));
    const id = mirror.body.build.id as number;
    // The policy travels to the agent in its manifest.
    const agent = await actAsAgent(h.cloud, id, strict);
    assert.deepEqual(agent.manifest.source, {
      allow_private: "False",
      allow: "10.9.0.0/16,mirror.lan:8080",
      deny: new URL(strict).host,
    });
    await call(`${strict}/builds/${id}`, { method: "DELETE", token: USER_A.token });
  });

  it("refuses the service's own endpoint even where the allow-list covers it, and lists it for the agent", async () => {
    // Everything on loopback is allow-listed here, the service included.
    const open = await h.startService({
      sourceAllowList: ["127.0.0.0/8"],
      sourceDenyList: ["mirror.lan"],
    });
    const api = `${open.url}/icaas`;
    const own = new URL(api).host;
    for (const src of [`${api}/builds`, `http://${own}/icaas/metrics`, "http://mirror.lan/x.img"]) {
      const answer = await create(api, src);
      assert.equal(answer.status, 400, src);
      assert.equal(answer.body.code, "source_refused", src);
      assert.match(
        answer.body.message,
        /is one the service refuses \(its own endpoint or on its deny-list\)/,
      );
    }
    const other = await create(api, `${h.cloud.url}/x.img`);
    assert.equal(other.status, 202, JSON.stringify(other.body));
    const agent = await actAsAgent(h.cloud, other.body.build.id, api);
    assert.deepEqual(agent.manifest.source?.deny?.split(","), ["mirror.lan", own]);
    await call(`${api}/builds/${other.body.build.id}`, { method: "DELETE", token: USER_A.token });
  });
});
