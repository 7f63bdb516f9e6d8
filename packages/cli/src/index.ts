/** @module @icaas/cli — the `icaas` command line client: its commands as functions, and the API client. */
export {
  BUILD_STATUSES,
  type Build,
  type BuildError,
  type BuildRequest,
  type BuildStatus,
  type BuildStep,
  isFinal,
  type PithosLocation,
} from "@icaas/contract";
export { currentStep } from "./build.ts";
export { type ClientOptions, type CreateResult, IcaasClient, type ListQuery } from "./client.ts";
export { type CancelOptions, cancel } from "./commands/cancel.ts";
export type { CommonOptions } from "./commands/common.ts";
export { type CreateOptions, create } from "./commands/create.ts";
export { type DeleteOptions, deleteBuild } from "./commands/delete.ts";
export { type ListOptions, list } from "./commands/list.ts";
export { type LogOptions, log } from "./commands/log.ts";
export { type ShowOptions, show } from "./commands/show.ts";
export { type WaitOptions, wait } from "./commands/wait.ts";
export { type CliConfig, type ConfigSources, defaultConfigFile, resolveConfig } from "./config.ts";
export {
  ApiError,
  BuildFailedError,
  CliError,
  describeError,
  EXIT,
  exitCodeOf,
  NetworkError,
  UsageError,
} from "./errors.ts";
export { type CapturedIo, captureIo, type Io } from "./io.ts";
export { newLines } from "./log-tail.ts";
export { type WatchOptions, watchBuild } from "./watch.ts";
