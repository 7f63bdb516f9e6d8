/** @module status-reports — what the agent tells the service: a report now and then, at each step change, and the last. */
import { LOG_TAIL_LINES, type StatusReport } from "@icaas/contract";
import { type AgentError, STOPPED_MESSAGE } from "./errors.ts";
import type { AgentLog } from "./log.ts";
import type { Manifest } from "./manifest.ts";
import { Reporter } from "./reporter.ts";
import type { StepTracker } from "./step-tracker.ts";

/** How a build ended, for the last report. */
export interface BuildEnd {
  error?: AgentError;
  image?: { id: string };
  location?: string;
}

export interface StatusReportsOptions {
  service: Manifest["service"];
  intervalSeconds: number;
  log: AgentLog;
  tracker: StepTracker;
  /** The service refused a report for good (the build was canceled or has ended). */
  onRefused: (status: number, message: string) => void;
  backoffMs?: number;
}

/**
 * Reports built from the step tracker, the log's tail and `details`, the sentence the user sees.
 *
 * @example
 * const reports = new StatusReports({ service, intervalSeconds: 5, log, tracker, onRefused });
 * reports.start();
 * const exitCode = await reports.end({ image });
 */
export class StatusReports {
  /** The `details` the next report carries. */
  details = "Booted!";
  readonly #log: AgentLog;
  readonly #tracker: StepTracker;
  readonly #reporter: Reporter;

  constructor(options: StatusReportsOptions) {
    this.#log = options.log;
    this.#tracker = options.tracker;
    this.#reporter = new Reporter({
      url: options.service.status,
      token: options.service.token,
      insecure: options.service.insecure,
      intervalMs: options.intervalSeconds * 1000,
      snapshot: () => this.#report("CREATING"),
      backoffMs: options.backoffMs,
      onRefused: options.onRefused,
      onProblem: (message) => options.log.warn(message),
    });
  }

  /** Reports now, then every interval. */
  start(): void {
    this.#reporter.start();
    this.update();
  }

  /** Reports now (a step changed). */
  update(): void {
    void this.#reporter.update();
  }

  /**
   * Sends the last report and resolves with the exit code: 0 built, 1 failed. A canceled build
   * reports nothing more (the service refused the last report already) and exits 0.
   */
  async end(outcome: BuildEnd): Promise<number> {
    void this.#reporter.stop();
    const { error } = outcome;
    if (error?.code === "canceled") {
      this.#log.info("build canceled; the work directory is removed and nothing more is reported");
      return 0;
    }
    this.details = !error
      ? "image creation finished"
      : error.code === "stopped"
        ? STOPPED_MESSAGE
        : error.message;
    const report: StatusReport = {
      ...this.#report(error ? "ERROR" : "COMPLETED"),
      ...(error ? { error: clip(error.toReport()) } : {}),
      ...(outcome.image ? { image_id: outcome.image.id } : {}),
      ...(outcome.location ? { image_location: outcome.location } : {}),
    };
    const delivered = await this.#reporter.final(report);
    if (!delivered && !this.#reporter.refused)
      this.#log.error("the final status report could not be delivered");
    return error ? 1 : 0;
  }

  #report(status: StatusReport["status"]): StatusReport {
    return {
      status,
      details: this.details.slice(0, 4096),
      "agent-progress": this.#tracker.agentProgress(),
      steps: this.#tracker.steps(),
      log_tail: this.#log.tail(LOG_TAIL_LINES).map((l) => (l.length > 4000 ? `${l.slice(0, 4000)}…` : l)),
    };
  }
}

function clip(error: ReturnType<AgentError["toReport"]>): ReturnType<AgentError["toReport"]> {
  return {
    ...error,
    message: error.message.slice(0, 4096),
    ...(error.hint ? { hint: error.hint.slice(0, 4096) } : {}),
  };
}
