/**
 * @module @icaas/contract — what the service, the agent, the CLI and the web UI must agree on, written
 * once: step and status names, the build JSON, the agent's report and manifest, error codes, the VM
 * file paths, the request rules and the version. Types, constants and small pure functions only.
 */
export { AGENT_ERROR_CODES, type AgentErrorCode } from "./agent-errors.ts";
export type {
  Build,
  BuildError,
  BuildNetwork,
  BuildRequest,
  BuildStep,
  BuildSummary,
  PithosLocation,
  StatusDetails,
} from "./build.ts";
export {
  type Checksum,
  type IniBoolean,
  MANIFEST_DEFAULTS,
  ManifestProblem,
  type ManifestSections,
  type ParsedManifest,
  parseChecksum,
  parseManifest,
  parseProgress,
  parseServiceSection,
  type RawManifest,
  type ServiceSettings,
  toRawManifest,
} from "./manifest.ts";
export { LOG_TAIL_LINES, type StatusReport, type StepReport } from "./report.ts";
export { BUILD_STATUSES, type BuildStatus, FINAL_STATUSES, type FinalStatus, isFinal } from "./status.ts";
export { STEP_NAMES, STEP_STATES, type StepName, type StepState } from "./steps.ts";
export {
  ACCOUNT_MAX_LENGTH,
  CHECKSUM_HEX_LENGTH,
  CHECKSUM_PATTERN,
  type ChecksumAlgorithm,
  CONTAINER_MAX_LENGTH,
  CONTAINER_PATTERN,
  containerProblem,
  DESCRIPTION_MAX_LENGTH,
  NAME_MAX_LENGTH,
  OBJECT_MAX_LENGTH,
  OBJECT_PATTERN,
  objectProblem,
  RULES,
  SRC_MAX_LENGTH,
  SRC_SCHEME_PATTERN,
  srcSyntaxProblem,
} from "./validation.ts";
export { VERSION } from "./version.ts";
export { MANIFEST_PATH, MARKER_PATH } from "./vm-files.ts";
