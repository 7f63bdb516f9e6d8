/** @module log-tail — which lines of a new log tail were not shown yet. */

export interface NewLines {
  lines: string[];
  /** The tails do not overlap: lines came and went between two looks. */
  gap: boolean;
}

/**
 * The build keeps only the agent's last lines, so each look is a sliding window. The new lines are
 * what follows the longest end of `previous` that starts `current`.
 *
 * @example
 * newLines(["a", "b", "c"], ["b", "c", "d"]); // { lines: ["d"], gap: false }
 */
export function newLines(previous: readonly string[], current: readonly string[]): NewLines {
  if (previous.length === 0) return { lines: [...current], gap: false };
  for (let k = Math.min(previous.length, current.length); k > 0; k--) {
    let match = true;
    for (let i = 0; i < k; i++) {
      if (previous[previous.length - k + i] !== current[i]) {
        match = false;
        break;
      }
    }
    if (match) return { lines: current.slice(k), gap: false };
  }
  return { lines: [...current], gap: current.length > 0 };
}
