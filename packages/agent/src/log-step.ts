/** @module log-step — the last step: the build log to its Pithos object, whatever happened before. */
import { setTimeout as sleep } from "node:timers/promises";
import type { BuildStop } from "./build-stop.ts";
import type { AgentLog, PithosLogAppender } from "./log.ts";
import type { StatusReports } from "./status-reports.ts";
import type { StepTracker } from "./step-tracker.ts";

/** How long the log upload may go on after the final report of a stopped build (SIGTERM). */
const LOG_GRACE_AFTER_STOP_MS = 5_000;

export interface LogStepContext {
  appender: PithosLogAppender;
  tracker: StepTracker;
  log: AgentLog;
  reports: StatusReports;
  stop: BuildStop;
}

/**
 * Uploads every line of the log, once the build is over. Skipped for a canceled build (the service
 * refuses anything more) and for a stopped one (see `lastLogTry`). A stop during the upload ends the
 * wait (Pithos may be down and the final report must not wait) but not the upload, which is returned.
 */
export async function runLogStep(ctx: LogStepContext, canceled: boolean): Promise<{ upload: Promise<void> }> {
  ctx.appender.stop();
  if (canceled || ctx.stop.signal.aborted) return { upload: Promise.resolve() };
  ctx.tracker.start("log");
  ctx.reports.details = "Uploading log...";
  ctx.log.info("step log: started");
  const upload = ctx.appender.flush().then(
    () => ctx.tracker.finish("log"),
    (error: unknown) => {
      ctx.tracker.fail("log");
      ctx.log.warn(`could not upload the log: ${(error as Error).message}`);
    },
  );
  await Promise.race([upload, ctx.stop.stopped()]);
  return { upload };
}

/** A stopped build's final report is out: the log gets a short, best-effort try before the VM goes away. */
export async function lastLogTry(appender: PithosLogAppender, upload: Promise<void>): Promise<void> {
  const lastTry = upload.then(() => appender.flush()).catch(() => {});
  await Promise.race([lastTry, sleep(LOG_GRACE_AFTER_STOP_MS, undefined, { ref: false })]);
}
