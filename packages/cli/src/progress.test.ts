/** Tests of the live progress line on a terminal and in a log file. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { captureIo } from "./io.ts";
import { ProgressLine } from "./progress.ts";

describe("ProgressLine", () => {
  it("redraws one line in place on a terminal, cut to its width, and erases it at the end", () => {
    const cap = captureIo({ tty: true, columns: 30 });
    const line = new ProgressLine(cap.io.stderr);
    line.update("build 1: 5% download");
    line.update(`build 1: 6% download ${"x".repeat(50)}`);
    line.clear();
    const writes = cap.stderr().split("\r\x1b[2K");
    assert.deepEqual(writes, ["", "build 1: 5% download", `build 1: 6% download ${"x".repeat(7)}…`, ""]);
    assert.ok(!cap.stderr().includes("\n"));
    // A pseudo-terminal that reports 0 columns gets 80, not a line cut to nothing.
    const pty = captureIo({ tty: true, columns: 0 });
    new ProgressLine(pty.io.stderr).update("x".repeat(70));
    assert.equal(pty.stderr(), `\r\x1b[2K${"x".repeat(70)}`);
  });

  it("writes a new line only when the key changes when not on a terminal", () => {
    const cap = captureIo();
    const line = new ProgressLine(cap.io.stderr);
    line.update("5% 1 MiB", "5%");
    line.update("5% 2 MiB", "5%");
    line.update("6% 3 MiB", "6%");
    line.clear();
    assert.equal(cap.stderr(), "5% 1 MiB\n6% 3 MiB\n");
  });
});
