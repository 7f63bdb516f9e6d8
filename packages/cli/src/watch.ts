/** @module watch — polls a build until it ends, riding out short outages of the service. */
import { setTimeout as sleep } from "node:timers/promises";
import { type Build, isFinal } from "@icaas/contract";
import type { IcaasClient } from "./client.ts";
import { ApiError, CliError, EXIT, isTransient } from "./errors.ts";
import { formatDuration, progressLine } from "./format.ts";

export interface WatchOptions {
  client: IcaasClient;
  id: number;
  /** Between two looks; default 1000. */
  intervalMs?: number;
  /** Give up (exit code 5) after this many seconds; default never. */
  timeoutSeconds?: number;
  signal?: AbortSignal;
  /** How long failures that may pass (network, 5xx, 429) are tolerated in a row; default 120 s. */
  patienceMs?: number;
  /** Every build seen, the final one included. */
  onBuild?: (build: Build) => void;
  /** A failure that is being ridden out. */
  onTrouble?: (error: CliError) => void;
}

/**
 * Resolves with the build once it is COMPLETED, ERROR or CANCELED. A build that is not found ends
 * the watch at once (exit code 4): it was deleted, or never was.
 *
 * @example
 * const build = await watchBuild({ client, id: 12, onBuild: (b) => console.log(b.progress) });
 */
export async function watchBuild(options: WatchOptions): Promise<Build> {
  const started = Date.now();
  const deadline = options.timeoutSeconds === undefined ? Infinity : started + options.timeoutSeconds * 1000;
  const interval = options.intervalMs ?? 1000;
  const patience = options.patienceMs ?? 120_000;
  let troubleSince: number | undefined;
  let last: Build | undefined;
  for (;;) {
    let wait = interval;
    try {
      last = await options.client.getBuild(options.id, options.signal);
      troubleSince = undefined;
      options.onBuild?.(last);
      if (isFinal(last.status)) return last;
    } catch (error) {
      if (options.signal?.aborted || !isTransient(error)) throw error;
      troubleSince ??= Date.now();
      if (Date.now() - troubleSince > patience) throw error;
      options.onTrouble?.(error as CliError);
      if (error instanceof ApiError && error.retryAfter) wait = Math.max(wait, error.retryAfter * 1000);
    }
    const now = Date.now();
    if (now >= deadline) {
      throw new CliError(
        // The limit the user set, not the time measured: a slow last look must not make "3s" read "4s".
        `build ${options.id} is still running after ${formatDuration(deadline - started)}` +
          (last ? `: ${progressLine(last).replace(/^build \d+: /, "")}` : ""),
        EXIT.timeout,
        `it goes on; wait again with: icaas wait ${options.id}`,
      );
    }
    wait = Math.min(wait, deadline - now);
    await sleep(wait, undefined, { signal: options.signal });
  }
}
