/** @module jobs/create-agent — creates a build's agent VM, at most once, with the user's token. */
import { SynnefoError } from "@icaas/synnefo";
import type { Logger } from "pino";
import { endBuild } from "../builds/end-build.ts";
import type { AgentCompute } from "../cloud/compute.ts";
import type { ServiceContext } from "../context.ts";
import { SEAL } from "../context.ts";
import type { JobRow } from "../db/schema.ts";
import { type AgentVmSettings, agentServerRequest, vmName } from "./agent-vm.ts";
import { describeCloudError } from "./cloud-error.ts";
import type { JobOutcome } from "./runner.ts";

export interface CreateAgentDeps {
  ctx: ServiceContext;
  compute: AgentCompute;
  logger: Logger;
  settings: () => AgentVmSettings;
  maxAttempts: number;
}

/** "Limit for resource 'Virtual Machine' exceeded …" → "Virtual Machine". */
export function exhaustedResource(details: string | undefined): string | undefined {
  return details?.match(/resource '([^']+)'/i)?.[1];
}

/**
 * The job. Before the create call the intent is recorded (`vm_state = creating`); if a previous
 * attempt may have created the VM (a lost answer, a crash), Cyclades is searched for a server with
 * this build's metadata first and that one is adopted. Quota (413) and other refusals (4xx) end the
 * build in ERROR at once; 5xx and no answer are retried with backoff up to `maxAttempts`.
 */
export async function createAgent(job: JobRow, deps: CreateAgentDeps): Promise<JobOutcome> {
  const { ctx, compute, logger } = deps;
  const build = await ctx.store.builds.find(job.build_id);
  // Ended, deleted or already done: nothing to create. The destroy job handles any VM.
  if (
    !build ||
    build.deleted === 1 ||
    build.status !== "CREATING" ||
    build.vm_state === "alive" ||
    build.vm_state === "gone"
  )
    return { kind: "done" };
  const token = ctx.box.decrypt(build.user_token_sealed, SEAL.userToken);

  if (build.vm_state === "creating") {
    let found: Awaited<ReturnType<AgentCompute["findByBuild"]>>;
    try {
      found = await compute.findByBuild(token, build.id);
    } catch (error) {
      return retryOrGiveUp(job, deps, error, "searching for an earlier VM failed");
    }
    const [first] = found;
    if (first) {
      logger.info({ build: build.id, vm: first.id }, "adopting the agent VM of an earlier attempt");
      return recordVm(deps, build.id, first.id, token);
    }
  }

  const name = vmName(build.id);
  const nonce = ctx.box.decrypt(build.nonce_sealed, SEAL.nonce);
  await ctx.store.builds.markVmCreating(build.id, name);
  let serverId: string;
  try {
    const server = await compute.create(token, agentServerRequest(build, nonce, name, deps.settings()));
    serverId = server.id;
  } catch (error) {
    ctx.metrics.vmCreateFailures.inc({
      reason: error instanceof SynnefoError ? String(error.status) : "error",
    });
    if (error instanceof SynnefoError && error.status >= 400 && error.status < 500) {
      // Refused: nothing was created.
      await ctx.store.builds.markVmGone(build.id, "none");
      const resource = error.status === 413 ? exhaustedResource(error.details) : undefined;
      await endBuild(ctx, build.id, "ERROR", error.status === 413 ? "quota" : "create_refused", {
        details: `ICaaS agent creation failed: (${error.status}, ${error.message})`,
        error: {
          code: error.status === 413 ? "quota_exceeded" : "agent_create_failed",
          message: error.details || error.message,
          step: "agent",
          hint:
            error.status === 413
              ? `Your quota of ${resource ?? "a resource"} is exhausted${build.project ? ` in project ${build.project}` : ""}; free some or ask for more.`
              : "Cyclades refused to create the agent VM; check the service's agent image, flavor and networks.",
        },
      });
      logger.warn({ build: build.id, error: describeCloudError(error) }, "agent VM creation refused");
      return { kind: "done" };
    }
    return retryOrGiveUp(job, deps, error, "agent VM creation failed");
  }
  logger.info({ build: build.id, vm: serverId }, "agent VM created");
  return recordVm(deps, build.id, serverId, token);
}

/** How long a duplicate VM's delete is retried while Cyclades refuses it (409 while it is being built). */
const DUPLICATE_DELETE_MS = 300_000;

/**
 * Records the VM, counting it once. When another attempt's VM is recorded already (a runner whose lease
 * lapsed ran the job too), this one is a duplicate that nothing else knows of: it is deleted here.
 */
async function recordVm(
  deps: CreateAgentDeps,
  buildId: number,
  vmId: string,
  token: string,
): Promise<JobOutcome> {
  const { ctx, compute, logger } = deps;
  const outcome = await ctx.store.builds.markVmAlive(buildId, vmId);
  if (outcome === "recorded") ctx.metrics.vmCreated.inc();
  if (outcome !== "duplicate") return { kind: "done" };
  logger.warn(
    { build: buildId, vm: vmId },
    "another attempt's agent VM is recorded: deleting this duplicate",
  );
  const deadline = Date.now() + DUPLICATE_DELETE_MS;
  for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
    try {
      await compute.delete(token, vmId);
      return { kind: "done" };
    } catch (error) {
      if (error instanceof SynnefoError && error.status === 404) return { kind: "done" };
      if (Date.now() + delay > deadline) {
        // The build goes on with the recorded VM; this one needs an operator (its id is in the log).
        ctx.metrics.vmDestroyFailures.inc({
          reason: error instanceof SynnefoError ? String(error.status) : "error",
        });
        logger.error(
          { build: buildId, vm: vmId, error: describeCloudError(error) },
          "a duplicate agent VM could not be deleted",
        );
        return { kind: "done" };
      }
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

async function retryOrGiveUp(
  job: JobRow,
  deps: CreateAgentDeps,
  error: unknown,
  what: string,
): Promise<JobOutcome> {
  const message = `${what}: ${describeCloudError(error)}`;
  if (job.attempts + 1 < deps.maxAttempts) return { kind: "retry", error: message };
  // The VM may exist (vm_state stays `creating`): the destroy job queued by endBuild searches for it.
  await endBuild(deps.ctx, job.build_id, "ERROR", "create_failed", {
    details: "ICaaS agent creation failed",
    error: {
      code: "agent_create_failed",
      message: `Cyclades did not create the agent VM after ${deps.maxAttempts} attempts (${describeCloudError(error)})`,
      step: "agent",
      hint: "The cloud may be down or overloaded; try again later.",
    },
  });
  deps.logger.warn({ build: job.build_id, error: message }, "giving up creating the agent VM");
  return { kind: "failed", error: message };
}
