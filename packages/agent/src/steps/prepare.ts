/** @module steps/prepare — the system preparation of snf-image-creator, through @icaas/imageprep. */
import { ImagePrepError, prepareImage } from "@icaas/imageprep";
import { AgentError, abortError, agentErrors, toAgentError } from "../errors.ts";
import { defineStep, fixedCost } from "./step.ts";

/**
 * imageprep's failures as agent errors: what cannot be prepared is `unsupported_image`. The step is
 * set here too: its tests run the steps without the runner.
 */
export function imageprepFailure(error: unknown, step: "prepare" | "shrink"): AgentError {
  if (error instanceof AgentError) return error;
  return toAgentError(fromImageprep(error, step), step);
}

function fromImageprep(error: unknown, step: "prepare" | "shrink"): AgentError {
  if (error instanceof ImagePrepError && error.code === "unsupported_image")
    return agentErrors.cannotPrepare(error.message.replace(/^the image cannot be prepared: /, ""), error);
  if (error instanceof ImagePrepError && error.code === "scrub_failed")
    return agentErrors.scrubFailed(error.message, error);
  return step === "shrink" ? agentErrors.shrinkFailed(error) : agentErrors.prepareFailed(error);
}

/**
 * Tasks the agent runs beyond snf-image-creator's defaults. An image ICaaS publishes is used by other
 * people, so the builder's local mailboxes (cron output, system notices) go with the other user data.
 */
const EXTRA_TASKS: readonly string[] = ["cleanup-mail"];

const DETAILS = "Preparing image (locking accounts, removing secrets, first-boot tasks)...";

export const prepareStep = defineStep("prepare", DETAILS, fixedCost(64 << 20), {
  async run(ctx, state) {
    const description = ctx.manifest.image.description?.trim() || undefined;
    try {
      const result = await prepareImage(state.raw!, {
        description,
        enable: [...EXTRA_TASKS],
        signal: ctx.signal,
        log: (line) => ctx.log.info(`prepare: ${line}`),
      });
      state.metadata = { ...result.metadata };
      state.shrinkWanted = result.shrink;
      const done = result.tasks.filter((t) => t.status === "done").map((t) => t.name);
      ctx.log.info(`preparation tasks done: ${done.join(", ") || "none"}`);
      const m = state.metadata;
      ctx.log.info(
        `image metadata: ${Object.entries(m)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ")}`,
      );
      return "done";
    } catch (error) {
      if (ctx.signal.aborted) throw abortError(ctx.signal, "prepare");
      throw imageprepFailure(error, "prepare");
    }
  },
});
