/** @module agent — the daemon's life: marker, manifest, Astakos, the build, the last report and the log. */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { MANIFEST_PATH, parseProgress } from "@icaas/contract";
import { claimRun, loadManifest } from "./agent-start.ts";
import { BuildStop } from "./build-stop.ts";
import { type CloudSession, openCloudSession } from "./cloud-session.ts";
import { agentErrors, toAgentError } from "./errors.ts";
import { AgentLog } from "./log.ts";
import { lastLogTry, runLogStep } from "./log-step.ts";
import { type BuildOutcome, type RunBuildOptions, runBuild } from "./run-build.ts";
import { StatusReports } from "./status-reports.ts";
import { StepTracker } from "./step-tracker.ts";
import { BUILD_STEPS, STEP_WEIGHTS } from "./steps/index.ts";
import type { StepDefinition } from "./steps/step.ts";

export const DEFAULT_MANIFEST = MANIFEST_PATH;

export interface AgentOptions {
  /** The INI manifest; relative to `root` when one is given. Default `/etc/icaas/manifest.cfg`. */
  manifest?: string;
  /** The root of the machine's files (a devcloud VM directory); default `/`. */
  root?: string;
  /** Where the build's scratch directory goes; default `<root>/var/tmp`. */
  workDir?: string;
  /** Aborted on SIGTERM/SIGINT by the CLI: the build stops and reports it. */
  signal?: AbortSignal;
  /** Where log lines are echoed (the journal); default stderr. */
  echo?: (line: string) => void;
  /** The steps to run (tests); default `BUILD_STEPS`. */
  steps?: StepDefinition[];
  /** Retry pacing of the manifest fetch and reports (tests shorten it). */
  backoffMs?: number;
}

/**
 * Runs the agent once and resolves with its exit code: 0 built (or canceled: nothing left to say),
 * 1 the build failed (reported), 2 the manifest file is unreadable, 3 the manifest is incomplete or
 * could not be fetched (as the original), 0 too when the `/.icaas` marker is gone (already ran).
 *
 * @example
 * process.exitCode = await runAgent({ root: "/srv/vm-42" });
 */
export async function runAgent(options: AgentOptions = {}): Promise<number> {
  const root = options.root ?? "/";
  const echo = options.echo ?? ((line: string) => process.stderr.write(`${line}\n`));
  const log = new AgentLog({ echo });
  if (!(await claimRun(root, log))) return 0;
  const manifestPath = join(root, options.manifest ?? DEFAULT_MANIFEST);
  const loaded = await loadManifest(manifestPath, log, { backoffMs: options.backoffMs });
  if ("exitCode" in loaded) return loaded.exitCode;
  const { raw, service } = loaded;

  const stop = new BuildStop();
  stop.followShutdown(options.signal);
  const tracker = new StepTracker(STEP_WEIGHTS);
  const { intervalSeconds } = parseProgress(raw);
  const reports = new StatusReports({
    service,
    intervalSeconds,
    log,
    tracker,
    backoffMs: options.backoffMs,
    onRefused: (status, message) => {
      log.warn(
        `the service refused the report (${status} ${message}): the build was canceled or has ended; stopping`,
      );
      stop.stop(agentErrors.canceled(status, message));
    },
  });
  tracker.start("manifest");
  reports.start();

  const logUploadFailed = (e: unknown) => echo(`log upload failed: ${(e as Error).message}`);
  let session: CloudSession;
  try {
    session = await openCloudSession(raw, service, log, logUploadFailed);
  } catch (error) {
    const failure = toAgentError(error, "manifest", "manifest_invalid");
    tracker.fail("manifest");
    log.error(`image creation failed: ${failure.code}: ${failure.message}`);
    return (await reports.end({ error: failure })) === 0 ? 0 : 3;
  }
  const { manifest, services, appender } = session;
  tracker.finish("manifest");
  log.info(`building image "${manifest.image.name}" from ${manifest.image.src}`);
  await appender.flush().catch(logUploadFailed);
  appender.start(intervalSeconds * 1000);

  const outcome = await runSteps(options, {
    root,
    tracker,
    reports,
    stop,
    ctx: { manifest, signal: stop.signal, log, services },
  });
  const canceled = !outcome.ok && outcome.error.code === "canceled";
  const { upload } = await runLogStep({ appender, tracker, log, reports, stop }, canceled);
  const code = await reports.end(
    outcome.ok ? { image: outcome.state.image, location: outcome.state.location } : { error: outcome.error },
  );
  if (!canceled && stop.signal.aborted) await lastLogTry(appender, upload);
  return code;
}

/** The build's steps under the manifest's time limit, each change reported, the end logged. */
async function runSteps(
  options: AgentOptions,
  run: {
    root: string;
    tracker: StepTracker;
    reports: StatusReports;
    stop: BuildStop;
    ctx: RunBuildOptions["ctx"];
  },
): Promise<BuildOutcome> {
  const { log, manifest } = run.ctx;
  const disarm = run.stop.armTimeout(manifest.limits.buildTimeoutSeconds);
  const workRoot = options.workDir ?? join(run.root, "var/tmp");
  await mkdir(workRoot, { recursive: true });
  const outcome = await runBuild({
    steps: options.steps ?? BUILD_STEPS,
    ctx: run.ctx,
    workRoot,
    tracker: run.tracker,
    onStepChange: (step, state) => {
      if (state === "running") run.reports.details = step.details;
      run.reports.update();
    },
  });
  disarm();
  if (outcome.ok) log.info("image creation finished");
  else if (outcome.error.code !== "canceled") {
    log.error(`image creation failed: ${outcome.error.code}: ${outcome.error.message}`);
  }
  return outcome;
}
