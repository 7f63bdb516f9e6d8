import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lastLine, runCommand } from "./child.ts";

describe("runCommand", () => {
  it("gives a child only PATH and LANG, whatever this process holds", async () => {
    process.env.ICAAS_TEST_SECRET = "must-not-leak";
    try {
      const r = await runCommand("env", []);
      const names = r.stdout
        .trim()
        .split("\n")
        .map((l) => l.split("=")[0])
        .sort();
      assert.deepEqual(names, ["LANG", "PATH"]);
      assert.doesNotMatch(r.stdout, /must-not-leak/);
    } finally {
      delete process.env.ICAAS_TEST_SECRET;
    }
  });

  it("reports the exit code and output without throwing, and kills the child on abort", async () => {
    const r = await runCommand("sh", ["-c", "echo out; echo 'first\nlast words' >&2; exit 3"]);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, "out\n");
    assert.equal(lastLine(r.stderr), "last words");
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error("stop")), 100);
    await assert.rejects(runCommand("sleep", ["30"], { signal: controller.signal }), /stop/);
    assert.ok(Date.now() - started < 2000);
  });

  it("streams stdout to onStdout (qemu-img -p progress) and honours a timeout", async () => {
    const seen: string[] = [];
    await runCommand("sh", ["-c", "printf '(1.00/100%%)\\r'; printf '(50.00/100%%)\\r'"], {
      onStdout: (t) => seen.push(t),
    });
    assert.match(seen.join(""), /\(50\.00\/100%\)/);
    const r = await runCommand("sleep", ["30"], { timeoutMs: 100 });
    assert.equal(r.timedOut, true);
    assert.equal(r.signal, "SIGTERM");
  });
});
