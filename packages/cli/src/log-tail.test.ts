/** Tests of which lines of a sliding log tail are new (what `icaas log --follow` prints). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { newLines } from "./log-tail.ts";

const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `line ${from + i}`);

describe("newLines", () => {
  it("shows everything the first time", () => {
    assert.deepEqual(newLines([], lines(0, 3)), { lines: lines(0, 3), gap: false });
  });

  it("shows only the lines after what was shown, while the 50-line window slides", () => {
    assert.deepEqual(newLines(lines(0, 50), lines(3, 53)), { lines: lines(50, 53), gap: false });
    assert.deepEqual(newLines(lines(0, 10), lines(0, 12)), { lines: lines(10, 12), gap: false });
  });

  it("shows nothing when nothing was added", () => {
    assert.deepEqual(newLines(lines(0, 50), lines(0, 50)), { lines: [], gap: false });
    assert.deepEqual(newLines(lines(0, 5), []), { lines: [], gap: false });
  });

  it("prefers the longest overlap, so repeated lines are not printed twice", () => {
    const before = ["a", "b", "a", "b"];
    const after = ["a", "b", "a", "b", "c"];
    assert.deepEqual(newLines(before, after).lines, ["c"]);
  });

  it("says when lines were lost between two looks (more than a window came)", () => {
    assert.deepEqual(newLines(lines(0, 50), lines(60, 110)), { lines: lines(60, 110), gap: true });
  });
});
