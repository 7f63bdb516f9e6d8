/** @module commands — the operator commands behind `icaas-prep`, as plain functions that return their output. */
import { inspectImage } from "./inspect.ts";
import { type PrepareOptions, prepareImage } from "./prepare.ts";
import { shrinkImage } from "./shrink.ts";
import { listTasks } from "./tasks/index.ts";
import type { ParamValue } from "./tasks/types.ts";

export interface CommandIO {
  /** Normal output (stdout). */
  out: (text: string) => void;
  /** Progress and log lines (stderr), so `--json` output stays parseable. */
  err: (text: string) => void;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** `icaas-prep inspect IMAGE [--json]`. */
export async function inspectCommand(
  image: string,
  options: { json?: boolean },
  io: CommandIO,
): Promise<void> {
  const i = await inspectImage(image);
  if (options.json) {
    io.out(`${JSON.stringify(i, null, 2)}\n`);
    return;
  }
  const lines = [
    `Image: ${i.image} (${mib(i.size)})${i.partitionTable ? `, ${i.partitionTable.label} partition table ${i.partitionTable.id}` : ""}`,
  ];
  for (const p of i.partitions) {
    const flags = [p.bootable ? "bootable" : "", p.logical ? "logical" : "", p.name ? `name=${p.name}` : ""]
      .filter(Boolean)
      .join(" ");
    lines.push(
      `  ${p.number}: start ${p.start}, ${mib(p.bytes)}, ${p.kind}, ${p.filesystem.type}${flags ? `, ${flags}` : ""}`,
    );
  }
  if (i.root)
    lines.push(
      `Root: partition ${i.root.partition} (${i.root.filesystem.type}, UUID ${i.root.filesystem.uuid ?? "?"})`,
    );
  const os = i.os;
  if (os) {
    lines.push(
      `OS: ${os.description} (${os.distro} ${os.version || "?"}, ${os.family} family, ${os.init}${os.packageManager ? `, ${os.packageManager}` : ""})`,
      `Kernel: ${os.kernel ?? "unknown"}`,
      `Users who can log in: ${os.users.join(" ") || "none"}`,
      `SSH: ${os.sshd.installed ? (os.sshd.enabled ? "enabled" : "installed, not enabled") : "not installed"}, port ${os.sshd.port}, PermitRootLogin ${os.sshd.permitRootLogin}`,
      `cloud-init: ${os.cloudInit.enabled ? `yes (users: ${os.cloudInit.users.join(" ") || "none"})` : "no"}`,
      `Bitnami: ${os.bitnami ? (os.bitnami.title ?? "yes") : "no"}`,
    );
  }
  lines.push(i.unsupported ? `Unsupported: ${i.unsupported}` : "Supported: yes");
  io.out(`${lines.join("\n")}\n`);
}

export interface PrepareCommandOptions {
  json?: boolean;
  enable?: string[];
  disable?: string[];
  /** `KEY=VALUE` strings. */
  param?: string[];
  allowUnsupported?: boolean;
  description?: string;
}

/** `icaas-prep prepare IMAGE …`: runs the tasks; prints each task's outcome and the metadata. */
export async function prepareCommand(
  image: string,
  options: PrepareCommandOptions,
  io: CommandIO,
): Promise<void> {
  const params: Record<string, ParamValue> = {};
  for (const kv of options.param ?? []) {
    const at = kv.indexOf("=");
    if (at <= 0) throw new Error(`--param wants KEY=VALUE, not "${kv}"`);
    params[kv.slice(0, at)] = kv.slice(at + 1);
  }
  const opts: PrepareOptions = { params, log: (l) => io.err(`${l}\n`) };
  if (options.enable) opts.enable = options.enable;
  if (options.disable) opts.disable = options.disable;
  if (options.allowUnsupported) opts.allowUnsupported = true;
  if (options.description) opts.description = options.description;
  const r = await prepareImage(image, opts);
  if (options.json) {
    io.out(`${JSON.stringify({ metadata: r.metadata, tasks: r.tasks, shrink: r.shrink }, null, 2)}\n`);
    return;
  }
  const lines = ["Tasks:"];
  for (const t of r.tasks) {
    const what = t.status === "done" ? t.changes.join("; ") : (t.reason ?? "");
    lines.push(`  ${t.name.padEnd(46)} ${t.status.padEnd(9)}${what ? ` ${what}` : ""}`);
  }
  lines.push("Metadata:");
  for (const [k, v] of Object.entries(r.metadata)) lines.push(`  ${k}=${v}`);
  io.out(`${lines.join("\n")}\n`);
}

/** `icaas-prep shrink IMAGE [--json]`. */
export async function shrinkCommand(
  image: string,
  options: { json?: boolean },
  io: CommandIO,
): Promise<void> {
  const r = await shrinkImage(image, { log: (l) => io.err(`${l}\n`) });
  if (options.json) {
    io.out(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  const lines = [`${mib(r.oldSize)} → ${mib(r.newSize)}`];
  if (r.swap) lines.push(`SWAP=${r.swap} (trailing swap partition removed)`);
  if (r.skipped) lines.push(`filesystem not shrunk: ${r.skipped}`);
  io.out(`${lines.join("\n")}\n`);
}

/** `icaas-prep tasks [--json]`: the tasks in run order with defaults and parameters. */
export async function tasksCommand(options: { json?: boolean }, io: CommandIO): Promise<void> {
  const tasks = listTasks();
  if (options.json) {
    io.out(`${JSON.stringify(tasks, null, 2)}\n`);
    return;
  }
  const lines: string[] = [];
  for (const t of tasks) {
    lines.push(`${t.name.padEnd(46)} ${t.enabledByDefault ? "on " : "off"}  ${t.description}`);
    for (const p of t.params)
      lines.push(
        `${"".padEnd(52)}param ${p.name} (${p.type}, default ${JSON.stringify(p.default)}): ${p.description}`,
      );
  }
  io.out(`${lines.join("\n")}\n`);
}
