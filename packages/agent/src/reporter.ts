/** @module reporter — status reports to the service: periodic, at each step change, retried, final. */
import { setTimeout as sleep } from "node:timers/promises";
import type { StatusReport } from "@icaas/contract";
import { errorMessage, requestJson } from "./http-json.ts";

export interface ReporterOptions {
  /** `service.status` from the manifest. */
  url: string;
  /** `service.token`, sent as `X-Icaas-Token` only. */
  token: string;
  insecure?: boolean;
  /** The report to send now (called for every attempt, so a retry carries fresh numbers). */
  snapshot: () => StatusReport;
  intervalMs: number;
  /**
   * The service refused a report for good: 403 (the build was canceled or has ended) or 404 (it is
   * gone). The agent must stop its work.
   */
  onRefused?: (status: number, message: string) => void;
  /** Problems worth a log line (never holds the token). */
  onProblem?: (message: string) => void;
  /** First retry delay; doubles up to `maxBackoffMs`. Default 500. */
  backoffMs?: number;
  maxBackoffMs?: number;
  timeoutMs?: number;
}

/**
 * Keeps the service informed. One report is in flight at a time; asks made meanwhile are folded
 * into one more report when it ends, so step changes are never lost and never pile up.
 *
 * @example
 * const reporter = new Reporter({ url, token, intervalMs: 5000, snapshot: () => tracker.report() });
 * reporter.start();
 * reporter.update();               // at a step change
 * await reporter.final({ status: "COMPLETED", details: "image creation finished" });
 */
export class Reporter {
  readonly #options: ReporterOptions;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #again = false;
  #refused = false;
  #final = false;
  #sent = 0;

  constructor(options: ReporterOptions) {
    this.#options = options;
  }

  /** True once the service refused a report (403/404): nothing more will be sent. */
  get refused(): boolean {
    return this.#refused;
  }

  /** Reports accepted by the service so far. */
  get sent(): number {
    return this.#sent;
  }

  start(): void {
    this.#timer = setInterval(() => void this.update(), this.#options.intervalMs);
    this.#timer.unref();
  }

  /** Ends the periodic reports; resolves once the report in flight, if any, has ended too. */
  stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    return this.#inFlight?.catch(() => {}) ?? Promise.resolve();
  }

  /** Sends the current snapshot soon; resolves when it (or a later one) went out or gave up. */
  update(): Promise<void> {
    if (this.#refused || this.#final) return Promise.resolve();
    if (this.#inFlight) {
      this.#again = true;
      return this.#inFlight;
    }
    this.#inFlight = (async () => {
      try {
        do {
          this.#again = false;
          await this.#send(() => this.#options.snapshot(), 4);
        } while (this.#again && !this.#refused && !this.#final);
      } finally {
        this.#inFlight = undefined;
      }
    })();
    return this.#inFlight;
  }

  /**
   * Sends the last report (COMPLETED or ERROR) after any report in flight, retrying for about a
   * minute. Resolves true when the service took it.
   */
  async final(report: StatusReport): Promise<boolean> {
    this.#final = true;
    await this.stop();
    if (this.#refused) return false;
    return this.#send(() => report, 8);
  }

  async #send(make: () => StatusReport, retries: number): Promise<boolean> {
    const backoff = this.#options.backoffMs ?? 500;
    const maxBackoff = this.#options.maxBackoffMs ?? 15_000;
    for (let attempt = 0; ; attempt++) {
      if (this.#refused) return false;
      let problem: string;
      try {
        const res = await requestJson({
          method: "PUT",
          url: this.#options.url,
          headers: { "x-icaas-token": this.#options.token },
          body: make(),
          insecure: this.#options.insecure,
          timeoutMs: this.#options.timeoutMs ?? 20_000,
        });
        if (res.status >= 200 && res.status < 300) {
          this.#sent++;
          return true;
        }
        if (res.status === 403 || res.status === 404) {
          this.#refused = true;
          void this.stop();
          this.#options.onRefused?.(res.status, errorMessage(res));
          return false;
        }
        if (res.status < 500) {
          // A 400 means this report was malformed; the next one may not be. Do not insist.
          this.#options.onProblem?.(`status report refused: (${res.status}) ${errorMessage(res)}`);
          return false;
        }
        problem = `status report failed: (${res.status}) ${errorMessage(res)}`;
      } catch (error) {
        problem = `status report failed: ${(error as Error).message}`;
      }
      if (attempt >= retries) {
        this.#options.onProblem?.(`${problem}; giving up on this report`);
        return false;
      }
      this.#options.onProblem?.(`${problem}; retrying`);
      const delay = Math.min(backoff * 2 ** attempt, maxBackoff);
      await sleep(delay / 2 + Math.random() * (delay / 2));
    }
  }
}
