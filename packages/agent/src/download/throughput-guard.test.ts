import assert from "node:assert/strict";
import { it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { ThroughputGuard } from "./throughput-guard.ts";

const RULE = { minBytesPerSecond: 10_000, windowMs: 80 };

it("does not count time when our own reader holds the source back, then trips within a window", async () => {
  const state = { received: 0, paused: true };
  const guard = new ThroughputGuard(RULE, () => state);
  const seen: { error?: Error } = {};
  const trippedWith = () => seen.error;
  guard.start((error) => {
    seen.error = error;
  });
  try {
    await sleep(400);
    assert.equal(trippedWith(), undefined, "5 windows without a byte, all of them paused by us");
    state.paused = false;
    await sleep(400);
    assert.match(
      String(trippedWith()?.message),
      /sent 0 bytes in the last 0\.1 s, under the minimum of 10000 bytes\/s/,
    );
    assert.equal(guard.hadGoodWindow, false);
  } finally {
    guard.stop();
  }
});

it("keeps a connection that meets the minimum, and says so", async () => {
  const state = { received: 0, paused: false };
  const guard = new ThroughputGuard(RULE, () => state);
  const feed = setInterval(() => {
    state.received += 500; // 500 bytes every 10 ms: 50 kB/s
  }, 10);
  let tripped = false;
  guard.start(() => {
    tripped = true;
  });
  try {
    await sleep(400);
    assert.equal(tripped, false);
    assert.equal(guard.hadGoodWindow, true);
  } finally {
    clearInterval(feed);
    guard.stop();
  }
});

it("is off when the minimum is 0", async () => {
  const guard = new ThroughputGuard({ minBytesPerSecond: 0, windowMs: 10 }, () => ({
    received: 0,
    paused: false,
  }));
  let tripped = false;
  guard.start(() => {
    tripped = true;
  });
  await sleep(100);
  assert.equal(tripped, false);
});
