/** @module jobs/runner — runs due jobs from the table: claim with a lease, heartbeat, retry with backoff. */
import type { Logger } from "pino";
import type { JobRepository } from "../db/jobs-repository.ts";
import type { JobKind, JobRow } from "../db/schema.ts";
import type { Metrics } from "../metrics.ts";

export type JobOutcome =
  | { kind: "done" }
  /** Try again later: after `delayMs`, or the backoff for the attempt count. `countAttempt: false` for a mere wait. */
  | { kind: "retry"; error: string; delayMs?: number; countAttempt?: boolean }
  | { kind: "failed"; error: string };

export type JobHandler = (job: JobRow) => Promise<JobOutcome>;

export interface RunnerOptions {
  jobs: JobRepository;
  handlers: Record<JobKind, JobHandler>;
  /** This instance's name in `lease_owner`. */
  owner: string;
  concurrency: number;
  pollMs: number;
  leaseMs: number;
  backoffMs: number;
  maxBackoffMs: number;
  logger: Logger;
  metrics: Metrics;
}

/** Exponential backoff with jitter: base·2^attempts, capped, scaled by 50–100 %. */
function backoff(attempts: number, baseMs: number, maxMs: number): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.min(attempts, 30));
  return Math.round(raw * (0.5 + Math.random() * 0.5));
}

/**
 * Polls the job table (and wakes at once when told there is new work), running up to `concurrency`
 * jobs. Leases are renewed while a job runs; a runner that dies leaves them to expire, and any
 * runner, in this instance or another, takes the jobs over.
 *
 * @example
 * const runner = new JobRunner({ jobs, handlers, owner: "host-1", concurrency: 8, … });
 * runner.start();
 * await runner.stop();
 */
export class JobRunner {
  readonly #o: RunnerOptions;
  readonly #inflight = new Map<number, Promise<void>>();
  #running = false;
  #loopDone: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #woken = false;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(options: RunnerOptions) {
    this.#o = options;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#heartbeat = setInterval(
      () => {
        this.#o.jobs
          .renew([...this.#inflight.keys()], this.#o.owner, this.#o.leaseMs)
          .catch((error) => this.#o.logger.warn({ err: error }, "job lease renewal failed"));
      },
      Math.max(50, Math.floor(this.#o.leaseMs / 3)),
    );
    this.#heartbeat.unref();
    this.#loopDone = this.#loop();
  }

  /** There may be due jobs now (a build was created, canceled, ended). */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /** Stops claiming, waits for running jobs (up to `timeoutMs`); unfinished leases expire on their own. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.wake();
    await this.#loopDone;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#inflight.values()]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    clearInterval(this.#heartbeat);
  }

  async #loop(): Promise<void> {
    while (this.#running) {
      this.#woken = false;
      const free = this.#o.concurrency - this.#inflight.size;
      let claimed: JobRow[] = [];
      if (free > 0) {
        try {
          claimed = await this.#o.jobs.claim(this.#o.owner, free, this.#o.leaseMs);
        } catch (error) {
          this.#o.logger.warn({ err: error }, "claiming jobs failed");
        }
      }
      // A job this instance still runs whose lease lapsed (a stalled event loop) is not started twice;
      // claiming it again merely renewed the lease.
      for (const job of claimed) if (!this.#inflight.has(job.id)) this.#run(job);
      if (!this.#running) break;
      if (free > 0 && claimed.length === free) continue;
      if (this.#woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#o.pollMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  #run(job: JobRow): void {
    const { jobs, owner, logger, metrics } = this.#o;
    const handler = this.#o.handlers[job.kind];
    const task = (async () => {
      let outcome: JobOutcome;
      try {
        outcome = await handler(job);
      } catch (error) {
        outcome = { kind: "retry", error: error instanceof Error ? error.message : String(error) };
        logger.warn({ err: error, job: job.id, kind: job.kind, build: job.build_id }, "job threw");
      }
      try {
        if (outcome.kind === "done") {
          await jobs.complete(job.id, owner);
        } else if (outcome.kind === "failed") {
          metrics.jobFailures.inc({ kind: job.kind });
          logger.warn(
            { job: job.id, kind: job.kind, build: job.build_id, error: outcome.error },
            "job failed",
          );
          await jobs.fail(job.id, owner, outcome.error);
        } else {
          const count = outcome.countAttempt !== false;
          const delay = outcome.delayMs ?? backoff(job.attempts, this.#o.backoffMs, this.#o.maxBackoffMs);
          if (count) {
            metrics.jobRetries.inc({ kind: job.kind });
            logger.info(
              {
                job: job.id,
                kind: job.kind,
                build: job.build_id,
                attempt: job.attempts + 1,
                delay,
                error: outcome.error,
              },
              "job will be retried",
            );
          }
          await jobs.retry(job, owner, Date.now() + delay, outcome.error, count);
        }
      } catch (error) {
        // The lease expires and the job runs again: handlers are idempotent.
        logger.warn({ err: error, job: job.id }, "recording a job's outcome failed");
      }
    })().finally(() => {
      this.#inflight.delete(job.id);
      this.wake();
    });
    this.#inflight.set(job.id, task);
  }
}
