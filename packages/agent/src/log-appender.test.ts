import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEMO_TOKEN, DEMO_USER_UUID, type Devcloud } from "@icaas/devcloud";
import { startTempDevcloud } from "@icaas/devcloud/testing";
import { PithosClient } from "@icaas/synnefo";
import { AgentLog, PithosLogAppender } from "./log.ts";

describe("PithosLogAppender against the devcloud's Pithos", () => {
  let cloud: Devcloud;
  let pithos: PithosClient;

  before(async () => {
    cloud = await startTempDevcloud("icaas-appender-");
    pithos = new PithosClient({
      storageUrl: `${cloud.url}/object-store/v1`,
      account: DEMO_USER_UUID,
      token: DEMO_TOKEN,
    });
  });
  after(async () => {
    await cloud.close();
  });

  const read = async (object: string) => (await pithos.getObject("icaas", object)).body.text();

  it("creates the object, then appends only the new bytes, each once", async () => {
    let n = 0;
    const log = new AgentLog({ now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, n++)) });
    const appender = new PithosLogAppender({ log, store: pithos, container: "icaas", object: "a.log" });
    log.info("one");
    await appender.flush();
    assert.equal(await read("a.log"), "2026-01-01T00:00:00.000Z INFO one\n");
    cloud.counters.reset();
    await appender.flush();
    assert.equal(cloud.counters.get("requests.object-store"), 0, "nothing new, nothing sent");
    log.warn("two");
    log.error("three");
    await appender.flush();
    log.info("four");
    await appender.flush();
    assert.equal(cloud.counters.get("requests.object-store"), 2, "one append per flush with news");
    const text = await read("a.log");
    assert.equal(
      text,
      [
        "2026-01-01T00:00:00.000Z INFO one",
        "2026-01-01T00:00:01.000Z WARNING two",
        "2026-01-01T00:00:02.000Z ERROR three",
        "2026-01-01T00:00:03.000Z INFO four",
        "",
      ].join("\n"),
    );
    assert.equal(appender.bytesSent, Buffer.byteLength(text));
  });

  it("keeps the bytes of a failed upload for the next one", async () => {
    const log = new AgentLog();
    const appender = new PithosLogAppender({ log, store: pithos, container: "icaas", object: "b.log" });
    log.info("first");
    await appender.flush();
    cloud.injection.set({ "object-store": { errorRate: 1 } });
    log.info("second");
    await assert.rejects(appender.flush());
    cloud.injection.set({});
    log.info("third");
    await appender.flush();
    const lines = (await read("b.log")).trim().split("\n");
    assert.deepEqual(
      lines.map((l) => l.split(" ").slice(2).join(" ")),
      ["first", "second", "third"],
    );
  });
});
