/** @module agent — the daemon's life: marker, manifest, Astakos, the build, the last report and the log. */
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  LOG_TAIL_LINES,
  MANIFEST_PATH,
  MARKER_PATH,
  parseProgress,
  type StatusReport,
} from "@icaas/contract";
import { AstakosClient, PithosClient, PlanktonClient } from "@icaas/synnefo";
import { AgentError, isStopRequest } from "./errors.ts";
import { AgentLog, PithosLogAppender } from "./log.ts";
import {
  completeManifest,
  type Manifest,
  ManifestLoadError,
  readManifestFile,
  serviceSettings,
  validateManifest,
} from "./manifest.ts";
import { Reporter } from "./reporter.ts";
import { runBuild } from "./run-build.ts";
import { StepTracker } from "./step-tracker.ts";
import { BUILD_STEPS, STEP_WEIGHTS } from "./steps/index.ts";
import type { BuildServices, StepDefinition } from "./steps/step.ts";

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

/** How long the log upload may go on after the final report of a stopped build (SIGTERM). */
const LOG_GRACE_AFTER_STOP_MS = 5_000;

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
  const inRoot = (p: string) => (isAbsolute(p) ? join(root, p) : join(root, p));
  const marker = join(root, MARKER_PATH);
  const manifestPath = inRoot(options.manifest ?? DEFAULT_MANIFEST);
  const log = new AgentLog({ echo });

  if (!existsSync(marker)) {
    log.info(`${marker} is absent: this machine has run its build already; nothing to do`);
    return 0;
  }
  // The agent runs once: a reboot must not start the build again.
  await rm(marker, { force: true });

  let raw: Awaited<ReturnType<typeof readManifestFile>>;
  let service: Manifest["service"];
  try {
    raw = await readManifestFile(manifestPath);
    const url = raw.manifest?.url;
    if (url) {
      // The nonce is spent once fetched, but there is no reason to show it.
      log.redact(url.split("/").pop());
      log.info(`fetching the manifest from ${url.replace(/\/[^/]+$/, "/…")}`);
    }
    raw = await completeManifest(raw, { backoffMs: options.backoffMs });
    service = serviceSettings(raw);
  } catch (error) {
    if (error instanceof ManifestLoadError) {
      log.error(error.message);
      return error.exitCode;
    }
    throw error;
  }
  log.redact(service.token);
  log.redact(raw.synnefo?.token);

  const tracker = new StepTracker(STEP_WEIGHTS);
  let details = "Booted!";
  const controller = new AbortController();
  const stop = (reason: AgentError) => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  options.signal?.addEventListener(
    "abort",
    () =>
      stop(
        new AgentError({
          code: "stopped",
          message: "Image creation failed. Stopped before completing",
          hint: "The agent was stopped (its VM was shut down or deleted)",
        }),
      ),
    { once: true },
  );
  if (options.signal?.aborted)
    stop(new AgentError({ code: "stopped", message: "Image creation failed. Stopped before completing" }));
  const { intervalSeconds } = parseProgress(raw);
  const snapshot = (): StatusReport => ({
    status: "CREATING",
    details,
    "agent-progress": tracker.agentProgress(),
    steps: tracker.steps(),
    log_tail: tail(log),
  });
  const reporter = new Reporter({
    url: service.status,
    token: service.token,
    insecure: service.insecure,
    intervalMs: intervalSeconds * 1000,
    snapshot,
    backoffMs: options.backoffMs,
    onRefused: (status, message) => {
      log.warn(
        `the service refused the report (${status} ${message}): the build was canceled or has ended; stopping`,
      );
      stop(
        new AgentError({
          code: "canceled",
          message: `The service stopped the build (${status} ${message})`,
        }),
      );
    },
    onProblem: (message) => log.warn(message),
  });

  tracker.start("manifest");
  reporter.start();
  void reporter.update();

  const finish = async (outcome: { error?: AgentError; image?: { id: string }; location?: string }) => {
    void reporter.stop();
    const { error } = outcome;
    if (error?.code === "canceled") {
      log.info("build canceled; the work directory is removed and nothing more is reported");
      return 0;
    }
    details = !error
      ? "image creation finished"
      : error.code === "stopped"
        ? "Image creation failed. Stopped before completing"
        : error.message;
    const report: StatusReport = {
      status: error ? "ERROR" : "COMPLETED",
      details: details.slice(0, 4096),
      "agent-progress": tracker.agentProgress(),
      steps: tracker.steps(),
      log_tail: tail(log),
      ...(error ? { error: clip(error.toReport()) } : {}),
      ...(outcome.image ? { image_id: outcome.image.id } : {}),
      ...(outcome.location ? { image_location: outcome.location } : {}),
    };
    const delivered = await reporter.final(report);
    if (!delivered && !reporter.refused) log.error("the final status report could not be delivered");
    return error ? 1 : 0;
  };

  let manifest: Manifest;
  let services: BuildServices;
  let appender: PithosLogAppender | undefined;
  try {
    manifest = validateManifest(raw, service);
    let user: { uuid: string };
    let catalog: Awaited<ReturnType<AstakosClient["authenticate"]>>["catalog"];
    try {
      ({ user, catalog } = await new AstakosClient({ authUrl: manifest.synnefo.url }).authenticate(
        manifest.synnefo.token,
      ));
    } catch (error) {
      throw new AgentError({
        code: "auth_failed",
        step: "manifest",
        message: `Astakos: ${(error as Error).message}`,
        hint: "The user's token was refused or Astakos is unreachable; build again with a valid token",
        cause: error,
      });
    }
    const storageUrl = catalog.endpoint("object-store");
    const token = manifest.synnefo.token;
    const imageAccount = manifest.image.account ?? user.uuid;
    services = {
      imageStore: new PithosClient({ storageUrl, account: imageAccount, token }),
      plankton: new PlanktonClient({ imageUrl: catalog.endpoint("image"), token }),
      imageAccount,
    };
    const logStore = new PithosClient({ storageUrl, account: manifest.log.account ?? user.uuid, token });
    appender = new PithosLogAppender({
      log,
      store: logStore,
      container: manifest.log.container,
      object: manifest.log.object,
      onError: (e) => echo(`log upload failed: ${(e as Error).message}`),
    });
    log.info(
      `authenticated as ${user.uuid}; image goes to ${imageAccount}/${manifest.image.container}/${manifest.image.object}`,
    );
  } catch (error) {
    const failure =
      error instanceof AgentError
        ? error
        : new AgentError({
            code: "manifest_invalid",
            step: "manifest",
            message: String((error as Error).message),
          });
    tracker.fail("manifest");
    log.error(`image creation failed: ${failure.code}: ${failure.message}`);
    const code = await finish({ error: failure });
    return code === 0 ? 0 : 3;
  }
  tracker.finish("manifest");
  log.info(`building image "${manifest.image.name}" from ${manifest.image.src}`);
  await appender.flush().catch((e) => echo(`log upload failed: ${(e as Error).message}`));
  appender.start(intervalSeconds * 1000);

  const timeoutSeconds = manifest.limits.buildTimeoutSeconds;
  const timer =
    timeoutSeconds === undefined
      ? undefined
      : setTimeout(
          () =>
            stop(
              new AgentError({
                code: "build_timeout",
                message: `The build took longer than ${timeoutSeconds} seconds`,
                hint: "Try a smaller image, or ask the operator for a longer build timeout",
              }),
            ),
          timeoutSeconds * 1000,
        );
  timer?.unref();

  const workRoot = options.workDir ?? join(root, "var/tmp");
  await mkdir(workRoot, { recursive: true });
  const outcome = await runBuild({
    steps: options.steps ?? BUILD_STEPS,
    ctx: { manifest, signal: controller.signal, log, services },
    workRoot,
    tracker,
    onStepChange: (step, state) => {
      if (state === "running") details = step.details;
      void reporter.update();
    },
  });
  if (timer) clearTimeout(timer);

  if (outcome.ok) log.info("image creation finished");
  else if (outcome.error.code !== "canceled") {
    log.error(`image creation failed: ${outcome.error.code}: ${outcome.error.message}`);
  }
  // The log step: whatever happened, the log object gets every line (not after a cancel's 403).
  appender.stop();
  const canceled = !outcome.ok && outcome.error.code === "canceled";
  let logStep: Promise<void> = Promise.resolve();
  if (!canceled && !controller.signal.aborted) {
    tracker.start("log");
    details = "Uploading log...";
    log.info("step log: started");
    logStep = appender.flush().then(
      () => tracker.finish("log"),
      (error: unknown) => {
        tracker.fail("log");
        log.warn(`could not upload the log: ${(error as Error).message}`);
      },
    );
    // A shutdown (SIGTERM) during the upload must not hold the final report: Pithos may be down.
    await Promise.race([logStep, abortedPromise(controller.signal)]);
  }
  const code = outcome.ok
    ? await finish({ image: outcome.state.image, location: outcome.state.location })
    : await finish({ error: outcome.error });
  if (!canceled && controller.signal.aborted) {
    // Stopped: the report is out; the log gets a short, best-effort try before the VM goes away.
    const lastTry = logStep.then(() => appender.flush()).catch(() => {});
    await Promise.race([lastTry, sleep(LOG_GRACE_AFTER_STOP_MS, undefined, { ref: false })]);
  }
  if (outcome.ok) return code;
  return isStopRequest(outcome.error) ? (canceled ? 0 : 1) : code;
}

/** Resolves when `signal` aborts (never otherwise). */
function abortedPromise(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

function tail(log: AgentLog): string[] {
  return log.tail(LOG_TAIL_LINES).map((l) => (l.length > 4000 ? `${l.slice(0, 4000)}…` : l));
}

function clip(error: ReturnType<AgentError["toReport"]>): ReturnType<AgentError["toReport"]> {
  return {
    ...error,
    message: error.message.slice(0, 4096),
    ...(error.hint ? { hint: error.hint.slice(0, 4096) } : {}),
  };
}
