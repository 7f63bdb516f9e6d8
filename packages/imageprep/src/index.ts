/** @module @icaas/imageprep — inspects, prepares and shrinks raw disk images without a VM, as root or not. */
export { repairFilesystem, type ScrubResult, scrubFreeBlocks } from "./discard.ts";
export { type DistroFamily, detectDistro } from "./distro.ts";
export { editGuest } from "./edit-guest.ts";
export { ImagePrepError, type ImagePrepErrorCode, isImagePrepError } from "./errors.ts";
export {
  type DirEntry,
  type ExtFs,
  type ExtStat,
  normalizeGuestPath,
  type Ownership,
  openExtFs,
  type WalkEntry,
  withExtFs,
} from "./ext-fs.ts";
export {
  FIRST_BOOT_LOG,
  FIRST_BOOT_PREFIX,
  FIRST_BOOT_SCRIPT,
  FIRST_BOOT_STATE,
  FIRST_BOOT_UNIT,
  FIRST_BOOT_WANTS,
  type FirstBootAction,
  renderFirstBootScript,
} from "./first-boot-script.ts";
export { type FreeBlockReport, verifyFreeBlocksZero } from "./free-blocks.ts";
export { type FilesystemInfo, type FilesystemType, isExt, probeFilesystem } from "./fs-probe.ts";
export {
  type InspectedPartition,
  type Inspection,
  inspectImage,
  type OsInfo,
  type PackageManager,
  type RootInfo,
} from "./inspect.ts";
export { initialMetadata, remoteConnection, sortOrder } from "./metadata.ts";
export {
  type Partition,
  type PartitionTable,
  type PartitionTableLabel,
  readPartitionTable,
} from "./partitions.ts";
export { type PrepareOptions, type PrepareResult, type Progress, prepareImage } from "./prepare.ts";
export { type RunToolOptions, runTool, type ToolResult } from "./run-tool.ts";
export { type ShrinkOptions, type ShrinkResult, shrinkImage } from "./shrink.ts";
export { listTasks, resolveParams, selectTasks, type TaskInfo } from "./tasks/index.ts";
export type { ParamValue, TaskParam, TaskResult } from "./tasks/types.ts";
export { type PasswdEntry, parsePasswd } from "./users.ts";
