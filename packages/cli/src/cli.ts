#!/usr/bin/env -S node --import tsx
/** @module cli — `icaas`: parses the command line, calls the command functions, turns errors into exit codes. */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { VERSION } from "@icaas/contract";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { cancel } from "./commands/cancel.ts";
import type { CommonOptions } from "./commands/common.ts";
import { create } from "./commands/create.ts";
import { deleteBuild } from "./commands/delete.ts";
import { list } from "./commands/list.ts";
import { log } from "./commands/log.ts";
import { show } from "./commands/show.ts";
import { wait } from "./commands/wait.ts";
import { describeError, EXIT, exitCodeOf } from "./errors.ts";
import { parseDuration } from "./format.ts";
import { type Io, processIo } from "./io.ts";

export interface MainOptions {
  io?: Io;
  env?: NodeJS.ProcessEnv;
  /** Aborts a running `wait`, `create --wait` or `log --follow`. */
  signal?: AbortSignal;
  /** Ctrl-C stops a wait or a follow cleanly (exit 130); elsewhere it ends the process as usual. */
  handleSigint?: boolean;
}

function seconds(text: string): number {
  const value = parseDuration(text);
  if (value === undefined)
    throw new InvalidArgumentError("expected seconds, or a number with s, m or h (90, 15m, 2h)");
  return value;
}

function integer(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError("expected a whole number");
  return Number(text);
}

/**
 * Runs the CLI with `argv` (without `node` and the script) and resolves with the exit code.
 *
 * @example
 * process.exitCode = await main(["list", "--json"]);
 */
export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const io = options.io ?? processIo;
  const env = options.env ?? process.env;
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  // Set by the commands that wait (wait, create --wait, log --follow): Ctrl-C stops them cleanly.
  let interruptible = false;
  let resume: string | undefined;
  const onSigint = () => {
    if (!interruptible) process.exit(EXIT.interrupted);
    // A second Ctrl-C ends the process the usual way.
    process.removeListener("SIGINT", onSigint);
    controller.abort();
  };
  if (options.handleSigint) process.on("SIGINT", onSigint);

  const program = new Command("icaas")
    .description("Create and follow ICaaS image builds.")
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError("(icaas --help, or icaas <command> --help)")
    .option("--url <url>", "the service's base URL, e.g. http://127.0.0.1:8080 (or ICAAS_URL)")
    .option("--token <token>", "your Synnefo token (or ICAAS_TOKEN, which other users cannot see in ps)")
    .option(
      "--config <file>",
      "a JSON file {url, token} (or ICAAS_CONFIG; default ~/.config/icaas/config.json)",
    );

  const common = (cmd: Command): CommonOptions => {
    const o = cmd.optsWithGlobals() as { url?: string; token?: string; config?: string };
    return { url: o.url, token: o.token, configFile: o.config, env, io };
  };

  program
    .command("create")
    .description("create a build from a source image URL")
    .requiredOption("--name <name>", "the image's name")
    .requiredOption("--src <url>", "the source image URL (http or https)")
    .option("--description <text>", "the image's description")
    .option("--public", "register the image as public")
    .option("--container <name>", "the image's Pithos container (default images)")
    .option("--object <name>", "the image's Pithos object (default <name>-<id>.diskdump)")
    .option("--project <uuid>", "the project charged for the agent VM")
    .option("--checksum <algo:hex>", "the source's checksum, e.g. sha256:9f86d0…")
    .option("--idempotency-key <key>", "retries with the same key create one build (default: random)")
    .option("--wait", "then wait until the build ends, as icaas wait does")
    .option("--timeout <duration>", "with --wait: give up after this long (exit 5)", seconds)
    .option("--interval <duration>", "with --wait: between two looks (default 1s)", seconds)
    .option("--json", "print the build as JSON")
    .action(async (opts, cmd: Command) => {
      interruptible = Boolean(opts.wait);
      await create({
        ...common(cmd),
        name: opts.name,
        src: opts.src,
        description: opts.description,
        public: opts.public,
        container: opts.container,
        object: opts.object,
        project: opts.project,
        checksum: opts.checksum,
        idempotencyKey: opts.idempotencyKey,
        wait: opts.wait,
        timeoutSeconds: opts.timeout,
        intervalMs: opts.interval === undefined ? undefined : opts.interval * 1000,
        json: opts.json,
        signal,
      });
    });

  program
    .command("list")
    .description("list your builds, newest first")
    .option("--status <status>", "only CREATING, COMPLETED, ERROR or CANCELED builds")
    .option("--all", "every build, page after page (default: the newest 20)")
    .option("--limit <n>", "how many builds (with --all: per page)", integer)
    .option("--json", "print a JSON array of builds")
    .action(async (opts, cmd: Command) => {
      await list({ ...common(cmd), status: opts.status, all: opts.all, limit: opts.limit, json: opts.json });
    });

  program
    .command("show")
    .description("show a build: state, steps, error, last log lines")
    .argument("<id>", "the build id")
    .option("--json", "print the build as JSON")
    .action(async (id: string, opts, cmd: Command) => {
      await show({ ...common(cmd), id, json: opts.json });
    });

  program
    .command("wait")
    .description("follow a build with a progress line; exit 0 when COMPLETED, 1 on ERROR or CANCELED")
    .argument("<id>", "the build id")
    .option("--timeout <duration>", "give up after this long, e.g. 30m (exit 5; the build goes on)", seconds)
    .option("--interval <duration>", "between two looks (default 1s)", seconds)
    .option("--quiet", "no progress line")
    .option("--json", "print the final build as JSON")
    .action(async (id: string, opts, cmd: Command) => {
      interruptible = true;
      resume = `icaas wait ${id}`;
      await wait({
        ...common(cmd),
        id,
        timeoutSeconds: opts.timeout,
        intervalMs: opts.interval === undefined ? undefined : opts.interval * 1000,
        quiet: opts.quiet,
        json: opts.json,
        signal,
      });
    });

  program
    .command("cancel")
    .description("cancel a running build (its agent VM is destroyed)")
    .argument("<id>", "the build id")
    .action(async (id: string, _opts, cmd: Command) => {
      await cancel({ ...common(cmd), id });
    });

  program
    .command("delete")
    .description("delete a build (stopped if running; its Pithos objects are kept)")
    .argument("<id>", "the build id")
    .action(async (id: string, _opts, cmd: Command) => {
      await deleteBuild({ ...common(cmd), id });
    });

  program
    .command("log")
    .description("print the build's last log lines")
    .argument("<id>", "the build id")
    .option("-f, --follow", "keep printing new lines until the build ends")
    .option("--interval <duration>", "with --follow: between two looks (default 1s)", seconds)
    .action(async (id: string, opts, cmd: Command) => {
      interruptible = Boolean(opts.follow);
      resume = `icaas log ${id} --follow`;
      await log({
        ...common(cmd),
        id,
        follow: opts.follow,
        intervalMs: opts.interval === undefined ? undefined : opts.interval * 1000,
        signal,
      });
    });

  try {
    await program.parseAsync(argv, { from: "user" });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (signal?.aborted) {
      io.stderr.write(`\nstopped; the build goes on${resume ? ` (${resume})` : ""}\n`);
      return EXIT.interrupted;
    }
    io.stderr.write(`${describeError(error)}\n`);
    return exitCodeOf(error);
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
}

function isMain(): boolean {
  try {
    return Boolean(process.argv[1]) && realpathSync(process.argv[1]!) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isMain()) process.exitCode = await main(process.argv.slice(2), { handleSigint: true });
