/** @module @icaas/agent — the ICaaS agent: one build inside its VM, from manifest to registered image. */
export { type AgentOptions, DEFAULT_MANIFEST, runAgent } from "./agent.ts";
export { type DownloadOptions, type DownloadResult, download } from "./download/download.ts";
export { AgentError, type AgentErrorInit } from "./errors.ts";
export { AgentLog, PithosLogAppender } from "./log.ts";
export {
  completeManifest,
  type Manifest,
  ManifestLoadError,
  type RawManifest,
  readManifestFile,
  validateManifest,
} from "./manifest.ts";
export { Reporter } from "./reporter.ts";
export { type BuildOutcome, runBuild } from "./run-build.ts";
export { StepTracker, type StepWeight } from "./step-tracker.ts";
export { convertToRaw } from "./steps/convert.ts";
export type { DiskInfo } from "./steps/disk-info.ts";
export { BUILD_STEPS, STEP_WEIGHTS } from "./steps/index.ts";
export { inspectDisk } from "./steps/inspect.ts";
export { fitProperties, imageProperties } from "./steps/register.ts";
export type { BuildContext, BuildServices, BuildState, StepDefinition } from "./steps/step.ts";
export { type UnpackOptions, type UnpackResult, unpack } from "./steps/unpack.ts";
