import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import type { StatusReport } from "@icaas/contract";
import { Reporter } from "./reporter.ts";

interface Seen {
  token: string | undefined;
  body: StatusReport;
}

describe("Reporter", () => {
  let server: Server;
  let url: string;
  let seen: Seen[] = [];
  let answers: number[] = [];
  let delayMs = 0;

  before(async () => {
    server = createServer(async (req: IncomingMessage, res) => {
      let text = "";
      for await (const c of req) text += c;
      const status = answers.shift() ?? 204;
      if (status === 204)
        seen.push({ token: req.headers["x-icaas-token"] as string, body: JSON.parse(text) });
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      if (status === 403) {
        res.writeHead(403, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: "Build is not active", status: 403 }));
        return;
      }
      res.writeHead(status).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/icaas/builds/agent/3`;
  });
  beforeEach(() => {
    seen = [];
    answers = [];
    delayMs = 0;
  });
  after(() => server.close());

  it("sends the token in X-Icaas-Token only, and a fresh snapshot each time", async () => {
    let n = 0;
    const reporter = new Reporter({
      url,
      token: "agent-secret",
      intervalMs: 60_000,
      snapshot: () => ({ status: "CREATING", details: `report ${++n}` }),
    });
    await reporter.update();
    await reporter.update();
    assert.deepEqual(
      seen.map((s) => [s.token, s.body.details]),
      [
        ["agent-secret", "report 1"],
        ["agent-secret", "report 2"],
      ],
    );
    assert.ok(!JSON.stringify(seen.map((s) => s.body)).includes("agent-secret"));
  });

  it("retries a 5xx with backoff and the latest numbers", async () => {
    answers = [503, 502];
    const problems: string[] = [];
    let n = 0;
    const reporter = new Reporter({
      url,
      token: "t",
      intervalMs: 60_000,
      backoffMs: 5,
      snapshot: () => ({ status: "CREATING", details: `try ${++n}` }),
      onProblem: (m) => problems.push(m),
    });
    await reporter.update();
    assert.deepEqual(
      seen.map((s) => s.body.details),
      ["try 3"],
    );
    assert.equal(problems.length, 2);
    assert.match(problems[0]!, /\(503\).*retrying/);
  });

  it("folds asks made during a report into one more report", async () => {
    delayMs = 50;
    let n = 0;
    const reporter = new Reporter({
      url,
      token: "t",
      intervalMs: 60_000,
      snapshot: () => ({ status: "CREATING", details: `r${++n}` }),
    });
    const first = reporter.update();
    void reporter.update();
    void reporter.update();
    await first;
    assert.equal(seen.length, 2, "three asks, two reports");
  });

  it("reports periodically", async () => {
    const reporter = new Reporter({
      url,
      token: "t",
      intervalMs: 40,
      snapshot: () => ({ status: "CREATING" }),
    });
    reporter.start();
    // Waits for the reports themselves, not a fixed time: a loaded machine runs timers late.
    const deadline = Date.now() + 10_000;
    while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    // A report still in flight would land in (and take the answers of) the next test.
    await reporter.stop();
    assert.ok(seen.length >= 3, `${seen.length} periodic reports without any update()`);
  });

  it("stops for good on a 403 and tells the agent", async () => {
    answers = [403];
    const refused: string[] = [];
    const reporter = new Reporter({
      url,
      token: "t",
      intervalMs: 60_000,
      snapshot: () => ({ status: "CREATING" }),
      onRefused: (status, message) => refused.push(`${status} ${message}`),
    });
    await reporter.update();
    assert.deepEqual(refused, ["403 Build is not active"]);
    assert.equal(reporter.refused, true);
    assert.equal(await reporter.final({ status: "ERROR", details: "x" }), false);
    assert.equal(seen.length, 0);
  });

  it("delivers the final report after the one in flight, retrying", async () => {
    delayMs = 30;
    const reporter = new Reporter({
      url,
      token: "t",
      intervalMs: 60_000,
      backoffMs: 5,
      snapshot: () => ({ status: "CREATING" }),
    });
    void reporter.update();
    answers = [204, 500];
    assert.equal(await reporter.final({ status: "COMPLETED", details: "image creation finished" }), true);
    assert.deepEqual(
      seen.map((s) => s.body.status),
      ["CREATING", "COMPLETED"],
    );
  });
});
