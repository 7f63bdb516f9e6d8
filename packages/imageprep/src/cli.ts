#!/usr/bin/env -S node --import tsx
/** @module cli — `icaas-prep inspect|prepare|shrink|tasks`: parses arguments and calls the commands. */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { type CommandIO, inspectCommand, prepareCommand, shrinkCommand, tasksCommand } from "./commands.ts";
import { ImagePrepError } from "./errors.ts";

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Exit codes: 0 done, 1 failed, 2 bad usage or options, 3 unsupported image, 4 not a raw disk image. */
export function exitCodeFor(e: unknown): number {
  if (e instanceof CommanderError) return 2;
  if (e instanceof ImagePrepError) {
    if (e.code === "invalid_option") return 2;
    if (e.code === "unsupported_image") return 3;
    if (e.code === "invalid_image") return 4;
  }
  return 1;
}

/** Builds the program; `io` receives all output (tests pass their own). */
export function buildProgram(io: CommandIO): Command {
  const program = new Command("icaas-prep")
    .description("Inspect, prepare and shrink raw disk images without a VM (ICaaS image preparation)")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  program
    .command("inspect")
    .argument("<image>", "raw disk image")
    .option("--json", "print the inspection as JSON")
    .description("Show the partitions, the root filesystem and the OS")
    .action((image: string, o: { json?: boolean }) => inspectCommand(image, o, io));
  program
    .command("prepare")
    .argument("<image>", "raw disk image, edited in place")
    .option("--json", "print the metadata and task results as JSON")
    .option("--enable <task>", "run a task that is off by default (repeatable)", collect, [])
    .option("--disable <task>", "do not run a task (repeatable)", collect, [])
    .option("--param <key=value>", "set a task parameter, e.g. bootmenu_timeout=5 (repeatable)", collect, [])
    .option("--allow-unsupported", "do not fail on an unsupported image: run no task, print its metadata")
    .option("--description <text>", "image DESCRIPTION (instead of the detected product name)")
    .description("Run the preparation tasks and print the image metadata")
    .action((image: string, o) => prepareCommand(image, o, io));
  program
    .command("shrink")
    .argument("<image>", "raw disk image, shrunk in place")
    .option("--json", "print the result as JSON")
    .description("Drop a trailing swap partition, shrink the last ext filesystem, cut the image")
    .action((image: string, o: { json?: boolean }) => shrinkCommand(image, o, io));
  program
    .command("tasks")
    .option("--json", "print as JSON")
    .description("List the preparation tasks in run order, with defaults and parameters")
    .action((o: { json?: boolean }) => tasksCommand(o, io));
  return program;
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], io: CommandIO): Promise<number> {
  try {
    await buildProgram(io).parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    const code = e instanceof ImagePrepError ? `${e.code}: ` : "";
    io.err(`icaas-prep: ${code}${(e as Error).message}\n`);
    return exitCodeFor(e);
  }
}

function invokedDirectly(): boolean {
  try {
    return realpathSync(process.argv[1] ?? "") === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  const io: CommandIO = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };
  main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
  });
}
