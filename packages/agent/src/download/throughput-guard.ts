/** @module download/throughput-guard — drops a download connection that stays under a minimum rate over a window. */
import { MANIFEST_DEFAULTS } from "@icaas/contract";

export interface ThroughputRule {
  /** Bytes per second a connection must average over every window; 0 turns the rule off. */
  minBytesPerSecond: number;
  windowMs: number;
}

/**
 * 32 KiB/s over 60 s: a 2 GiB image at that rate already takes 18 hours, so nothing slower is worth a
 * VM; a minute is long enough to ride out a stall of a healthy server. (The manifest's defaults.)
 */
export const DEFAULT_THROUGHPUT: ThroughputRule = {
  minBytesPerSecond: MANIFEST_DEFAULTS.minBytesPerSecond,
  windowMs: MANIFEST_DEFAULTS.throughputWindowSeconds * 1000,
};

/** Samples per window: the window slides by a quarter. */
const TICKS = 4;

/** What the guard reads at each tick: bytes received so far, and whether our reader paused the source. */
export type ProgressProbe = () => { received: number; paused: boolean };

/**
 * Watches one connection from the moment the request is sent (headers trickled byte by byte count as
 * nothing received). An idle timer alone is reset by every byte, so a source sending one byte every
 * 30 s would hold the VM for hours; this one trips when a whole window brings less than the minimum.
 * Time when our own reader held the source back (backpressure) does not count against it.
 *
 * @example
 * const guard = new ThroughputGuard(rule, () => ({ received: tap.received, paused: tap.paused }));
 * guard.start((error) => req.destroy(error));
 */
export class ThroughputGuard {
  readonly #rule: ThroughputRule;
  readonly #probe: ProgressProbe;
  #timer: NodeJS.Timeout | undefined;
  #history: number[] = [];
  #tripped: string | undefined;
  #good = false;

  constructor(rule: ThroughputRule, probe: ProgressProbe) {
    this.#rule = rule;
    this.#probe = probe;
  }

  /** Starts watching; `onTooSlow` is called at most once, with the reason. */
  start(onTooSlow: (error: Error) => void): void {
    const { minBytesPerSecond, windowMs } = this.#rule;
    if (!(minBytesPerSecond > 0 && windowMs > 0)) return;
    const needed = (minBytesPerSecond * windowMs) / 1000;
    this.#history = [this.#probe().received];
    this.#timer = setInterval(() => {
      const { received, paused } = this.#probe();
      if (paused) {
        this.#history = [received];
        return;
      }
      this.#history.push(received);
      if (this.#history.length <= TICKS) return;
      const inWindow = received - this.#history.shift()!;
      if (inWindow >= needed) {
        this.#good = true;
        return;
      }
      this.stop();
      this.#tripped =
        `the source sent ${inWindow} bytes in the last ${formatSeconds(windowMs)} s, ` +
        `under the minimum of ${minBytesPerSecond} bytes/s`;
      onTooSlow(new Error(this.#tripped));
    }, windowMs / TICKS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Why the connection was dropped, when it was. */
  get tripped(): string | undefined {
    return this.#tripped;
  }

  /** True once a whole window met the minimum: the source was fine for a while. */
  get hadGoodWindow(): boolean {
    return this.#good;
  }
}

function formatSeconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}
