/** @module @icaas/agent — the ICaaS agent: one build inside its VM, from manifest to registered image. */
export { type AgentOptions, DEFAULT_MANIFEST, runAgent } from "./agent.ts";
export { type DownloadOptions, type DownloadResult, download } from "./download/download.ts";
export {
  AgentError,
  type AgentErrorCode,
  type AgentErrorInit,
  STEP_NAMES,
  type StepName,
} from "./errors.ts";
export { AgentLog, PithosLogAppender } from "./log.ts";
export {
  completeManifest,
  type Manifest,
  ManifestLoadError,
  type RawManifest,
  readManifestFile,
  validateManifest,
} from "./manifest.ts";
export { Reporter, type StatusReport, type StepReport, type StepState } from "./reporter.ts";
export { type BuildOutcome, runBuild } from "./run-build.ts";
export { StepTracker, type StepWeight } from "./step-tracker.ts";
export { convertToRaw } from "./steps/convert.ts";
export { BUILD_STEPS, STEP_WEIGHTS } from "./steps/index.ts";
export { type DiskInfo, inspectDisk } from "./steps/inspect.ts";
export { fitProperties, imageProperties } from "./steps/register.ts";
export type { BuildContext, BuildServices, BuildState, StepDefinition } from "./steps/step.ts";
export { type UnpackOptions, type UnpackResult, unpack } from "./steps/unpack.ts";
