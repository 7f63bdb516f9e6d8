/** @module sweeper — ends builds that stalled and re-queues the destruction of every VM that should be gone. */
import type { Logger } from "pino";
import { endBuild } from "./builds/end-build.ts";
import type { ServiceContext } from "./context.ts";

export interface SweepResult {
  manifestExpired: number;
  agentSilent: number;
  overdue: number;
  destroysQueued: number;
}

/**
 * One pass: builds whose manifest was not fetched within `manifestTimeoutSeconds`, whose agent sent
 * nothing for `agentSilenceSeconds`, or that ran past `buildTimeoutSeconds` end in ERROR (which
 * queues their VM's destruction); builds that are over or deleted but may still have a VM and no
 * destroy job get one. Every change is guarded, so several instances may sweep at once.
 */
export async function sweep(ctx: ServiceContext, logger: Logger, now = Date.now()): Promise<SweepResult> {
  const { config, store } = ctx;
  const result: SweepResult = { manifestExpired: 0, agentSilent: 0, overdue: 0, destroysQueued: 0 };
  for (const id of await store.builds.activeIds(
    "manifest_expired",
    now - config.manifestTimeoutSeconds * 1000,
  )) {
    const ended = await endBuild(ctx, id, "ERROR", "manifest_timeout", {
      details: "Agent start up expired",
      error: {
        code: "manifest_timeout",
        message: `The agent did not fetch its manifest within ${config.manifestTimeoutSeconds} seconds`,
        step: "manifest",
        hint: "The agent VM may have failed to boot or to reach the service's public URL.",
      },
    });
    if (ended) result.manifestExpired++;
  }
  for (const id of await store.builds.activeIds("agent_silent", now - config.agentSilenceSeconds * 1000)) {
    const ended = await endBuild(ctx, id, "ERROR", "agent_silent", {
      details: "Agent stopped reporting",
      error: {
        code: "agent_silent",
        message: `The agent sent no report for ${config.agentSilenceSeconds} seconds`,
        hint: "The agent VM may have crashed or lost its network.",
      },
    });
    if (ended) result.agentSilent++;
  }
  for (const id of await store.builds.activeIds("overdue", now - config.buildTimeoutSeconds * 1000)) {
    const ended = await endBuild(ctx, id, "ERROR", "build_timeout", {
      details: "Build timed out",
      error: {
        code: "build_timeout",
        message: `The build ran longer than ${config.buildTimeoutSeconds} seconds`,
      },
    });
    if (ended) result.overdue++;
  }
  for (const id of await store.builds.vmsToDestroy()) {
    await store.jobs.enqueue(id, "destroy_agent", now);
    result.destroysQueued++;
  }
  if (result.destroysQueued > 0) ctx.wakeJobs();
  const total = result.manifestExpired + result.agentSilent + result.overdue + result.destroysQueued;
  if (total > 0) logger.info(result, "sweep");
  return result;
}

/** Runs `sweep` every `intervalMs` until stopped; a failed pass is logged and the next one runs. */
export class Sweeper {
  readonly #ctx: ServiceContext;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(ctx: ServiceContext, logger: Logger, intervalMs: number) {
    this.#ctx = ctx;
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = sweep(this.#ctx, this.#logger)
        .catch((error) => this.#logger.warn({ err: error }, "sweep failed"))
        .finally(() => {
          this.#running = undefined;
          this.#schedule(this.#intervalMs);
        });
    }, delay);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}
