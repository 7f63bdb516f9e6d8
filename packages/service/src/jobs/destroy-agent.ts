/** @module jobs/destroy-agent — deletes a build's agent VM, whatever raced with its creation. */
import { isServerDeletedError, SynnefoError } from "@icaas/synnefo";
import type { Logger } from "pino";
import type { AgentCompute } from "../cloud/compute.ts";
import type { ServiceContext } from "../context.ts";
import { SEAL } from "../context.ts";
import type { JobRow } from "../db/schema.ts";
import { describeCloudError } from "./cloud-error.ts";
import type { JobOutcome } from "./runner.ts";

export interface DestroyAgentDeps {
  ctx: ServiceContext;
  compute: AgentCompute;
  logger: Logger;
  /** How long to wait for a create job that is running right now. */
  waitMs: number;
}

/**
 * The job. Without a VM id: a pending create job is dropped (no VM will be made); a running one is
 * waited for; a create call whose answer was lost (`vm_state = creating`) is resolved by searching
 * Cyclades for the build's metadata. With an id: DELETE, where 404 and "already deleted" count as
 * success. The build's own token is tried first, then the user's latest one (the first may have
 * expired). Failures are retried forever with capped backoff; the sweeper re-queues the job if it
 * is ever lost.
 */
export async function destroyAgent(job: JobRow, deps: DestroyAgentDeps): Promise<JobOutcome> {
  const { ctx, compute, logger } = deps;
  const build = await ctx.store.builds.find(job.build_id);
  if (!build) return { kind: "done" };
  const tokens = [ctx.box.decrypt(build.user_token_sealed, SEAL.userToken)];
  const latest = await ctx.store.builds.userToken(build.user_uuid);
  if (latest) {
    const token = ctx.box.decrypt(latest, SEAL.userToken);
    if (token !== tokens[0]) tokens.push(token);
  }

  let ids: string[];
  if (build.vm_id) {
    ids = [build.vm_id];
  } else {
    const creating = await ctx.store.jobs.get(build.id, "create_agent");
    if (creating?.state === "pending" && (await ctx.store.jobs.cancelPending(build.id, "create_agent"))) {
      // It never ran, or will not run again: only an earlier attempt's lost answer can have made a VM.
    } else if (creating?.state === "running" || creating?.state === "pending") {
      return {
        kind: "retry",
        error: "waiting for the create job",
        delayMs: deps.waitMs,
        countAttempt: false,
      };
    }
    const fresh = await ctx.store.builds.find(build.id);
    if (fresh?.vm_id) {
      ids = [fresh.vm_id];
    } else if (fresh?.vm_state === "creating") {
      try {
        ids = (await withTokens(tokens, (t) => compute.findByBuild(t, build.id))).map((s) => s.id);
      } catch (error) {
        ctx.metrics.vmDestroyFailures.inc({ reason: reason(error) });
        return { kind: "retry", error: `searching for the agent VM failed: ${describeCloudError(error)}` };
      }
    } else {
      return { kind: "done" };
    }
  }

  for (const id of ids) {
    try {
      await withTokens(tokens, (t) => compute.delete(t, id));
    } catch (error) {
      if (isServerDeletedError(error) || (error instanceof SynnefoError && error.status === 404)) continue;
      ctx.metrics.vmDestroyFailures.inc({ reason: reason(error) });
      logger.warn({ build: build.id, vm: id, error: describeCloudError(error) }, "agent VM deletion failed");
      return { kind: "retry", error: `deleting VM ${id} failed: ${describeCloudError(error)}` };
    }
    ctx.metrics.vmDestroyed.inc();
    logger.info({ build: build.id, vm: id }, "agent VM destroyed");
  }
  await ctx.store.builds.markVmGone(build.id, ids.length > 0 || build.vm_state !== "none" ? "gone" : "none");
  return { kind: "done" };
}

function reason(error: unknown): string {
  return error instanceof SynnefoError ? String(error.status) : "error";
}

/** Runs a call with each token in turn while the answer is 401. */
async function withTokens<T>(tokens: string[], call: (token: string) => Promise<T>): Promise<T> {
  let last: unknown;
  for (const token of tokens) {
    try {
      return await call(token);
    } catch (error) {
      last = error;
      if (!(error instanceof SynnefoError && error.status === 401)) throw error;
    }
  }
  throw last;
}
