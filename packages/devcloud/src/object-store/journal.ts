/** @module object-store/journal — crash-safe persistence: a snapshot file plus an append-only log. */
import { type FileHandle, mkdir, open, readFile, rename } from "node:fs/promises";
import { join } from "node:path";

export interface JournalFiles {
  /** Full state, replaced atomically (temp file, fsync, rename). */
  snapshot: string;
  /** One JSON operation per line, appended after the snapshot was taken. */
  log: string;
}

/**
 * A snapshot plus a log of operations. Each operation is one `write()` of one line, so a crash leaves at
 * most a torn last line, which loading ignores. Operations must be idempotent (they carry whole
 * records), because a crash between writing a new snapshot and emptying the log replays the log over a
 * snapshot that already holds it. Appends are serialised in call order.
 */
export class Journal<Op> {
  readonly files: JournalFiles;
  readonly #compactEvery: number;
  #fh: FileHandle | undefined;
  #tail: Promise<void> = Promise.resolve();
  #sinceCompaction = 0;
  #state: (() => unknown) | undefined;

  constructor(dir: string, options: { compactEvery?: number } = {}) {
    this.files = { snapshot: join(dir, "state.json"), log: join(dir, "journal.jsonl") };
    this.#compactEvery = options.compactEvery ?? 5000;
  }

  /** Reads the snapshot (or `undefined`) and the operations logged after it. */
  async load(): Promise<{ snapshot: unknown; ops: Op[] }> {
    await mkdir(join(this.files.snapshot, ".."), { recursive: true });
    const snapshotText = await readFile(this.files.snapshot, "utf8").catch(missingAsUndefined);
    const snapshot = snapshotText === undefined ? undefined : (JSON.parse(snapshotText) as unknown);
    const logText = (await readFile(this.files.log, "utf8").catch(missingAsUndefined)) ?? "";
    const lines = logText.split("\n");
    const ops: Op[] = [];
    lines.forEach((line, i) => {
      if (line.trim() === "") return;
      try {
        ops.push(JSON.parse(line) as Op);
      } catch (error) {
        // Only the last line can be torn by a crash; anything else is corruption.
        const last = lines.slice(i + 1).every((l) => l.trim() === "");
        if (!last) throw new Error(`${this.files.log}: line ${i + 1} is not JSON`, { cause: error });
      }
    });
    return { snapshot, ops };
  }

  /** Writes a new snapshot and starts an empty log; call after `load()` and before `append()`. */
  async open(state: () => unknown): Promise<void> {
    await this.#writeSnapshot(state());
    // O_APPEND: every write lands at the end, also after the log is truncated by a compaction.
    this.#fh = await open(this.files.log, "a");
    await this.#fh.truncate(0);
    this.#state = state;
  }

  /** Appends one operation; resolves once it is written. */
  append(op: Op): Promise<void> {
    const line = `${JSON.stringify(op)}\n`;
    const run = this.#tail.then(async () => {
      const fh = this.#fh;
      if (!fh) throw new Error("journal is not open");
      await fh.write(line);
      if (++this.#sinceCompaction >= this.#compactEvery && this.#state) await this.#compact(this.#state());
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #compact(state: unknown): Promise<void> {
    await this.#writeSnapshot(state);
    await this.#fh?.truncate(0);
    this.#sinceCompaction = 0;
  }

  async #writeSnapshot(state: unknown): Promise<void> {
    const tmp = `${this.files.snapshot}.tmp`;
    const fh = await open(tmp, "w");
    try {
      await fh.writeFile(JSON.stringify(state));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.files.snapshot);
  }

  /** Waits for pending appends, writes a final snapshot and closes the log. */
  async close(): Promise<void> {
    await this.#tail;
    if (this.#state) await this.#compact(this.#state());
    await this.#fh?.close();
    this.#fh = undefined;
  }
}

function missingAsUndefined(error: NodeJS.ErrnoException): undefined {
  if (error.code === "ENOENT") return undefined;
  throw error;
}
