/** @module step-tracker — each step's state, bytes and times, and one progress figure over all steps. */
import { type BuildStep, STEP_NAMES, type StepName, type StepState } from "@icaas/contract";

/** How much a step weighs in the overall progress: `fixed + perByte × bytes_total`. */
export interface StepWeight {
  /** Cost per byte, relative to downloading one byte (1). */
  perByte: number;
  /** Cost that does not scale with bytes (a register call, a log flush), in byte-equivalents. */
  fixed: number;
}

interface StepRecord {
  name: StepName;
  state: StepState;
  done: number;
  total: number;
  /** True once `total` comes from the step itself rather than from a guess. */
  known: boolean;
  started: string | null;
  finished: string | null;
  weight: StepWeight;
}

/**
 * The build's steps as the service shows them (`steps[]`) and `agent-progress` {current, total}:
 * the sum over steps of weight × bytes, where steps that have not started count with an estimate
 * (`estimate()`), refined as facts arrive (the Content-Length, the disk's virtual size, …). The
 * reported fraction never goes backwards when an estimate grows.
 *
 * @example
 * const t = new StepTracker({ download: { perByte: 1, fixed: 0 }, … });
 * t.start("download"); t.progress("download", 512, 1024); t.finish("download");
 * t.agentProgress(); // { current, total }
 */
export class StepTracker {
  readonly #steps: StepRecord[];
  readonly #now: () => Date;
  #lastFraction = 0;

  constructor(weights: Partial<Record<StepName, StepWeight>>, now: () => Date = () => new Date()) {
    this.#now = now;
    this.#steps = STEP_NAMES.map((name) => ({
      name,
      state: "pending",
      done: 0,
      total: 0,
      known: false,
      started: null,
      finished: null,
      weight: weights[name] ?? { perByte: 0, fixed: 1 },
    }));
  }

  #get(name: StepName): StepRecord {
    return this.#steps.find((s) => s.name === name)!;
  }

  /** The step running now, if any. */
  get current(): StepName | undefined {
    return this.#steps.find((s) => s.state === "running")?.name;
  }

  state(name: StepName): StepState {
    return this.#get(name).state;
  }

  start(name: StepName): void {
    const s = this.#get(name);
    s.state = "running";
    s.started = this.#now().toISOString();
  }

  /** Bytes done (and the total when known) of a running step. */
  progress(name: StepName, done: number, total?: number): void {
    const s = this.#get(name);
    if (total !== undefined && total >= 0) {
      s.total = total;
      s.known = true;
    }
    s.done = Math.max(0, Math.min(done, s.total || done));
    if (!s.known) s.total = Math.max(s.total, s.done);
  }

  /** A guess of a step's bytes before it runs; ignored once the step reported a real total. */
  estimate(name: StepName, bytes: number): void {
    const s = this.#get(name);
    if (!s.known) s.total = Math.max(0, Math.round(bytes));
  }

  finish(name: StepName): void {
    const s = this.#get(name);
    s.state = "done";
    s.done = s.total;
    s.known = true;
    s.finished = this.#now().toISOString();
  }

  skip(name: StepName): void {
    const s = this.#get(name);
    s.state = "skipped";
    s.done = 0;
    s.total = 0;
    s.known = true;
    s.finished = this.#now().toISOString();
  }

  fail(name: StepName): void {
    const s = this.#get(name);
    s.state = "failed";
    s.finished = this.#now().toISOString();
  }

  steps(): BuildStep[] {
    return this.#steps.map((s) => ({
      name: s.name,
      state: s.state,
      bytes_done: s.done,
      bytes_total: s.total,
      started: s.started,
      finished: s.finished,
    }));
  }

  /** `agent-progress` for the report: integers, current ≤ total, and a fraction that only grows. */
  agentProgress(): { current: number; total: number } {
    let current = 0;
    let total = 0;
    for (const s of this.#steps) {
      if (s.state === "skipped") continue;
      const cost = s.weight.fixed + s.weight.perByte * s.total;
      total += cost;
      if (s.state === "done") current += cost;
      else if (s.state === "running" || s.state === "failed") {
        const fraction = s.total > 0 ? s.done / s.total : 0;
        current += s.weight.perByte * s.done + s.weight.fixed * fraction;
      }
    }
    total = Math.max(1, Math.round(total));
    let rounded = Math.min(total, Math.round(current));
    // Rounded up, so the reported ratio itself never shrinks.
    if (rounded / total < this.#lastFraction)
      rounded = Math.min(total, Math.ceil(this.#lastFraction * total));
    this.#lastFraction = rounded / total;
    return { current: rounded, total };
  }
}
