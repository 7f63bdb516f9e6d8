/** @module progress — a live status line: redrawn in place on a terminal, one line per change elsewhere. */
import type { OutStream } from "./io.ts";

/**
 * On a terminal the line is rewritten (`\r`, erase line) and cut to the width; in a pipe or a CI log
 * a line is written only when `key` changes, so a long download does not print thousands of lines.
 */
export class ProgressLine {
  readonly #stream: OutStream;
  #shown = false;
  #lastKey: string | undefined;

  constructor(stream: OutStream) {
    this.#stream = stream;
  }

  get live(): boolean {
    return this.#stream.isTTY === true;
  }

  /** Shows `text`; `key` (default `text`) decides whether a non-terminal gets a new line. */
  update(text: string, key: string = text): void {
    if (this.live) {
      // A pseudo-terminal may report 0 columns.
      const width = Math.max(20, (this.#stream.columns || 80) - 1);
      const cut = text.length > width ? `${text.slice(0, width - 1)}…` : text;
      this.#stream.write(`\r\x1b[2K${cut}`);
      this.#shown = true;
      return;
    }
    if (key === this.#lastKey) return;
    this.#lastKey = key;
    this.#stream.write(`${text}\n`);
  }

  /** Erases the live line, so what follows starts on a clean line. */
  clear(): void {
    if (this.live && this.#shown) this.#stream.write("\r\x1b[2K");
    this.#shown = false;
  }
}
