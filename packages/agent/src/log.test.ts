import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentLog } from "./log.ts";

describe("AgentLog", () => {
  it("stamps lines with time and level and keeps a tail", () => {
    const echoed: string[] = [];
    const log = new AgentLog({
      keep: 3,
      echo: (l) => echoed.push(l),
      now: () => new Date("2026-11-25T07:00:00Z"),
    });
    log.info("one");
    log.warn("two");
    log.error("three\nfour");
    assert.deepEqual(log.tail(10), [
      "2026-11-25T07:00:00.000Z WARNING two",
      "2026-11-25T07:00:00.000Z ERROR three",
      "2026-11-25T07:00:00.000Z ERROR four",
    ]);
    assert.equal(echoed.length, 4);
  });

  it("never keeps a registered secret", () => {
    const log = new AgentLog();
    log.redact("s3cr3t-token");
    log.info("calling with s3cr3t-token in a message");
    assert.match(log.tail(1)[0]!, /calling with \*\*\* in a message/);
    assert.doesNotMatch(log.takePending(), /s3cr3t/);
  });

  it("hands out only new text, and takes back text whose upload failed", () => {
    const log = new AgentLog({ now: () => new Date(0) });
    log.info("a");
    const first = log.takePending();
    assert.equal(first, "1970-01-01T00:00:00.000Z INFO a\n");
    assert.equal(log.takePending(), "");
    log.info("b");
    const second = log.takePending();
    log.info("c");
    log.restorePending(second);
    assert.equal(log.takePending(), "1970-01-01T00:00:00.000Z INFO b\n1970-01-01T00:00:00.000Z INFO c\n");
  });
});
