/** @module prepare — runs the preparation tasks on a raw disk image in place and collects its metadata. */
import { e2Spec, repairFilesystem, scrubFreeBlocks } from "./discard.ts";
import { ImagePrepError } from "./errors.ts";
import { installFirstBoot } from "./first-boot.ts";
import { verifyFreeBlocksZero } from "./free-blocks.ts";
import { isExt } from "./fs-probe.ts";
import { withGuestFs } from "./guest-fs/open.ts";
import { guestRoot, type Inspection, inspectImage, mountSources, type OsInfo, sshdState } from "./inspect.ts";
import { initialMetadata, remoteConnection } from "./metadata.ts";
import { metadataLabel } from "./partitions.ts";
import { scheduleRelabel } from "./selinux.ts";
import { resolveParams, selectTasks, TASKS } from "./tasks/index.ts";
import type { ParamValue, TaskContext, TaskResult } from "./tasks/types.ts";

/** Where a long operation is: `phase` names the step, `done`/`total` count within it. */
export interface Progress {
  phase: string;
  done: number;
  total: number;
  /** The task running, during the `tasks` phase. */
  task?: string;
}

export interface PrepareOptions {
  /** Task names to run on top of the defaults. */
  enable?: string[];
  /** Task names not to run (wins over `enable`). */
  disable?: string[];
  /** Task parameters (`bootmenu_timeout`, `powerbtn_action`, …); lists as arrays or comma-separated. */
  params?: Record<string, ParamValue>;
  /** Do not fail on an unsupported image: run no task, return what metadata is known. */
  allowUnsupported?: boolean;
  /** Replaces the detected DESCRIPTION when non-empty. */
  description?: string;
  onProgress?: (p: Progress) => void;
  /** Receives human-readable lines for the build log. */
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface PrepareResult {
  metadata: Record<string, string>;
  /** Every task in run order, with what it did or why not. */
  tasks: TaskResult[];
  inspection: Inspection;
  /** Whether the `shrink` task is selected (shrinkImage should run next). */
  shrink: boolean;
}

function unsupportedResult(
  inspection: Inspection,
  selected: Set<string>,
  description?: string,
): PrepareResult {
  const reason = inspection.unsupported as string;
  const metadata: Record<string, string> =
    inspection.os && inspection.root ? initialMetadata(inspection, inspection.os, description) : {};
  if (inspection.partitionTable) metadata.PARTITION_TABLE = metadataLabel(inspection.partitionTable.label);
  if (description) metadata.DESCRIPTION = description;
  metadata.UNSUPPORTED = reason;
  metadata.EXCLUDE_ALL_TASKS = "yes";
  const tasks = TASKS.map((t) => ({
    name: t.name,
    status: selected.has(t.name) ? ("skipped" as const) : ("disabled" as const),
    changes: [],
    reason: `unsupported image: ${reason}`,
    ms: 0,
  }));
  return { metadata, tasks, inspection, shrink: false };
}

/**
 * Prepares a raw disk image for the cloud, editing it in place: inspects it, records the metadata
 * (USERS before any account is locked), runs the selected tasks in order, installs the first-boot
 * script, schedules an SELinux relabel where SELinux is on, and discards the freed blocks of every
 * filesystem it edited (e2fsck for ext, fstrim on the mount for XFS and btrfs). Unsupported images throw
 * `unsupported_image` (naming why) unless `allowUnsupported` is set.
 *
 * @example
 * const { metadata, tasks } = await prepareImage("disk.raw", { disable: ["first-boot-update-software"], log: console.log });
 * // metadata.OS === "debian", metadata.USERS === "root admin", …
 */
export async function prepareImage(image: string, options: PrepareOptions = {}): Promise<PrepareResult> {
  const log = options.log ?? (() => undefined);
  const progress = options.onProgress ?? (() => undefined);
  // Refuse what e2fsck cannot be pointed at before anything is changed.
  e2Spec(image, 0);
  const selected = selectTasks(options.enable, options.disable);
  const params = resolveParams(options.params);

  progress({ phase: "inspect", done: 0, total: 1 });
  let inspection = await inspectImage(image, { signal: options.signal });
  if (inspection.unsupported) {
    if (!options.allowUnsupported) {
      throw new ImagePrepError(
        "unsupported_image",
        `the image cannot be prepared: ${inspection.unsupported}`,
      );
    }
    log(`unsupported image: ${inspection.unsupported}; no task runs (allowUnsupported)`);
    return unsupportedResult(inspection, selected, options.description);
  }
  const root = inspection.root as NonNullable<Inspection["root"]>;
  // The kernel replays a journal when it mounts; debugfs would edit past it.
  if (root.backend === "debugfs" && !root.filesystem.clean) {
    // A journal to replay or an unclean unmount: debugfs must not edit it before e2fsck has.
    log(`root filesystem (partition ${root.partition}) was not cleanly unmounted; running e2fsck -fy first`);
    await repairFilesystem(image, root.offset, options.signal);
    inspection = await inspectImage(image, { signal: options.signal });
  }
  const os = inspection.os as OsInfo;
  progress({ phase: "inspect", done: 1, total: 1 });
  log(
    `found ${os.description} (${os.distro} ${os.version || "?"}, ${os.init}) on partition ${root.partition} (${root.filesystem.type}${root.subvolume ? `, subvolume ${root.subvolume}` : ""}; ${root.backend === "mount" ? "mounted through a loop device" : "edited with debugfs, unmounted"})`,
  );

  const metadata = initialMetadata(inspection, os, options.description);
  const results: TaskResult[] = [];
  const runnable = TASKS.filter((t) => t.stage === "prepare" && selected.has(t.name));
  const session = { discard: true, signal: options.signal, log };
  await withGuestFs(image, guestRoot(inspection), mountSources(inspection), session, async (fs) => {
    const ctx: TaskContext = { fs, inspection, os, params, metadata, firstBoot: [], log };
    let done = 0;
    for (const task of TASKS) {
      if (task.stage === "shrink") {
        const on = selected.has(task.name);
        results.push({ name: task.name, status: on ? "deferred" : "disabled", changes: [], ms: 0 });
        continue;
      }
      if (!selected.has(task.name)) {
        results.push({ name: task.name, status: "disabled", changes: [], ms: 0 });
        continue;
      }
      options.signal?.throwIfAborted();
      progress({ phase: "tasks", done, total: runnable.length, task: task.name });
      const started = Date.now();
      let out: Awaited<ReturnType<typeof task.run>>;
      try {
        out = await task.run(ctx);
      } catch (e) {
        if (e instanceof ImagePrepError && e.code === "tool_failed") {
          throw new ImagePrepError("task_failed", `task ${task.name} failed: ${e.message}`, {
            task: task.name,
            tool: e.tool,
            cause: e,
          });
        }
        throw new ImagePrepError("task_failed", `task ${task.name} failed: ${(e as Error).message}`, {
          task: task.name,
          cause: e,
        });
      }
      const ms = Date.now() - started;
      done += 1;
      if (out.skipped !== undefined && out.changes.length === 0) {
        results.push({ name: task.name, status: "skipped", changes: [], reason: out.skipped, ms });
        log(`task ${task.name}: skipped (${out.skipped})`);
      } else {
        results.push({ name: task.name, status: "done", changes: out.changes, ms });
        for (const c of out.changes) log(`task ${task.name}: ${c}`);
      }
    }
    progress({ phase: "tasks", done, total: runnable.length });
    for (const c of await installFirstBoot(fs, os.init, ctx.firstBoot)) log(`first boot: ${c}`);
    const relabel = await scheduleRelabel(fs);
    if (relabel) log(relabel);

    // Remote access is judged on the prepared image: a task may have turned sshd on (now or at first boot).
    const sshd = await sshdState(fs, os.init);
    const atFirstBoot = ctx.firstBoot.some((a) => a.name === "first-boot-enable-remote-access");
    if (sshd.enabled || atFirstBoot) {
      metadata.REMOTE_CONNECTION = remoteConnection((metadata.USERS ?? "").split(" ").filter(Boolean), sshd);
    }
  });

  const extParts = mountSources(inspection).filter((p) => isExt(p.filesystem.type));
  let n = 0;
  for (const p of extParts) {
    progress({ phase: "discard", done: n, total: extParts.length });
    const r = await scrubFreeBlocks(image, p.offset, options.signal);
    log(
      `partition ${p.number}: free blocks discarded${r.repaired ? " (e2fsck repaired or optimised it first)" : ""}`,
    );
    n += 1;
  }
  // The discard is checked, not trusted: e2fsck drops it silently (a changed filesystem, an I/O error).
  await verifyFreeBlocksZero(image, { signal: options.signal, filesystems: extParts });
  progress({ phase: "discard", done: n, total: extParts.length });
  return { metadata, tasks: results, inspection, shrink: selected.has("shrink") };
}
