import assert from "node:assert/strict";
import { once } from "node:events";
import { text } from "node:stream/consumers";
import { describe, it } from "node:test";
import { lastLine, runCommand, spawnReading } from "./child.ts";

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

describe("spawnReading", () => {
  it("keeps the output of a child that exits before the caller starts reading", async () => {
    // 40 KiB: more than one read, less than the pipe holds, so the child exits unread.
    const { child, stdout } = spawnReading("sh", ["-c", "head -c 40960 /dev/zero | tr '\\0' x"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    // The caller is busy elsewhere (opening its output file) until the child is gone entirely.
    const [code] = await once(child, "close");
    assert.equal(code, 0);
    const out = await text(stdout);
    assert.equal(out.length, 40960, "every byte the child wrote is there");
    assert.match(out, /^x+$/);
  });

  it("stops the child's output when the caller stops reading early", async () => {
    const { child, stdout } = spawnReading("sh", ["-c", "exec yes"], { stdio: ["ignore", "pipe", "ignore"] });
    for await (const _ of stdout) break;
    // `yes` never ends by itself: it ends only because its pipe was closed.
    const [code, signal] = await once(child, "close");
    assert.ok(code !== 0 || signal !== null, `yes ended with ${code} ${signal}`);
  });
});
