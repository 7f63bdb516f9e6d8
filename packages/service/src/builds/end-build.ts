/** @module builds/end-build — every way a build ends goes through here: guarded, counted, VM destroyed. */
import type { FinalStatus } from "@icaas/contract";
import type { ServiceContext } from "../context.ts";
import type { FinishOptions } from "../db/builds-repository.ts";

/**
 * Ends a CREATING build (a no-op returning false for any other status: final states never change),
 * counts it by reason and wakes the job runner to destroy its VM.
 */
export async function endBuild(
  ctx: Pick<ServiceContext, "store" | "metrics" | "wakeJobs">,
  id: number,
  status: FinalStatus,
  reason: string,
  options: FinishOptions,
): Promise<boolean> {
  const ended = await ctx.store.builds.finish(id, status, options);
  if (ended) {
    ctx.metrics.buildsEnded.inc({ status, reason });
    ctx.wakeJobs();
  }
  return ended;
}
