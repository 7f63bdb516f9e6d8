/** @module commands/wait — `icaas wait ID`: a live progress line until the build ends; exit 0 only on COMPLETED. */
import type { Build } from "@icaas/contract";
import { currentStep } from "../build.ts";
import type { IcaasClient } from "../client.ts";
import { BuildFailedError } from "../errors.ts";
import { clean, formatDuration, progressLine } from "../format.ts";
import { type Io, println } from "../io.ts";
import { ProgressLine } from "../progress.ts";
import { watchBuild } from "../watch.ts";
import { type CommonOptions, jsonText, parseId, setup } from "./common.ts";

export interface WaitOptions extends CommonOptions {
  id: number | string;
  /** Give up after this many seconds (exit code 5); the build goes on. Default: wait until it ends. */
  timeoutSeconds?: number;
  /** Between two looks at the build; default 1000 ms. */
  intervalMs?: number;
  /** Print the final build as JSON on stdout (progress still goes to stderr). */
  json?: boolean;
  /** Hide the progress line. */
  quiet?: boolean;
  /** Stops waiting (Ctrl-C); the build is not touched. */
  signal?: AbortSignal;
  /** How long network failures and 5xx answers are ridden out in a row; default 120 s. */
  patienceMs?: number;
}

/**
 * What makes a new progress line in a log file: bytes change all the time, so only each tenth of a
 * step's bytes counts.
 */
export function progressKey(build: Build): string {
  const step = currentStep(build);
  const tenth = step?.bytes_total ? Math.floor(((step.bytes_done ?? 0) * 10) / step.bytes_total) : 0;
  return `${build.status} ${build.progress} ${step?.name ?? ""} ${tenth} ${build.status_details?.details ?? ""}`;
}

/** Waits with a progress line on stderr and prints the outcome; shared by `wait` and `create --wait`. */
export async function waitAndReport(
  client: IcaasClient,
  io: Io,
  id: number,
  options: Omit<WaitOptions, "id" | keyof CommonOptions>,
): Promise<Build> {
  const progress = new ProgressLine(io.stderr);
  let build: Build;
  try {
    build = await watchBuild({
      client,
      id,
      intervalMs: options.intervalMs,
      timeoutSeconds: options.timeoutSeconds,
      signal: options.signal,
      patienceMs: options.patienceMs,
      onBuild: (b) => {
        if (!options.quiet && b.status === "CREATING") progress.update(progressLine(b), progressKey(b));
      },
      onTrouble: (error) => {
        if (!options.quiet) progress.update(`build ${id}: ${error.message}; trying again`, "trouble");
      },
    });
  } finally {
    progress.clear();
  }
  if (options.json) io.stdout.write(jsonText(build));
  if (build.status !== "COMPLETED") throw new BuildFailedError(build, clean);
  if (!options.json) {
    const took = formatDuration(Date.parse(build.updated) - Date.parse(build.created));
    const where = build.image_location ?? `${build.image.container}/${build.image.object}`;
    println(
      io.stdout,
      `build ${build.id} COMPLETED in ${took}: image ${clean(build.image_id ?? "?")} at ${clean(where)}`,
    );
  }
  return build;
}

/**
 * Waits until the build ends. Resolves with the COMPLETED build; throws `BuildFailedError` (exit 1)
 * for ERROR and CANCELED after printing nothing itself (the top level prints the error and hint).
 *
 * @example
 * const build = await wait({ id: 12, url: "http://127.0.0.1:8080", token, timeoutSeconds: 600 });
 */
export async function wait(options: WaitOptions): Promise<Build> {
  const id = parseId(options.id);
  const { client, io } = setup(options);
  return waitAndReport(client, io, id, options);
}
