#!/usr/bin/env -S node --import tsx
/** @module cli — `icaas-devcloud`: runs a devcloud in the foreground until SIGINT or SIGTERM. */
import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError, Option } from "commander";
import { DRIVER_NAMES } from "./compute/driver.ts";
import { DEMO_TOKEN, type DevcloudConfig, loadConfig } from "./config.ts";
import { isSynnefoRelease, SYNNEFO_RELEASES, type SynnefoRelease } from "./release.ts";
import { type Devcloud, startDevcloud } from "./server.ts";

export interface CliOptions {
  port: number;
  host: string;
  /** Where the devcloud keeps its state; reused on the next start. */
  data: string;
  /** A JSON config file (see README); missing keys take the defaults. */
  config?: string;
  /** The command agent-image VMs run, as one shell-like string; overrides the config's `agent.command`. */
  agentCommand?: string;
  /** The Synnefo release to play; overrides the config's `synnefo`. */
  synnefo?: SynnefoRelease;
  /** `process` or `qemu`; overrides the config's `computeDriver`. */
  computeDriver?: "process" | "qemu";
}

/**
 * Splits a command line the way a shell would for plain words and quotes (no expansions):
 * `node "my agent.js" --root {root}` → `["node", "my agent.js", "--root", "{root}"]`.
 */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} in command`);
  if (inWord) words.push(word);
  return words;
}

/** Loads the config, applies the options and starts the devcloud. */
export async function runDevcloud(options: CliOptions): Promise<{ cloud: Devcloud; config: DevcloudConfig }> {
  const config = await loadConfig(options.config);
  if (options.synnefo) config.synnefo = options.synnefo;
  if (options.agentCommand) {
    const command = splitCommand(options.agentCommand);
    if (command.length === 0) throw new Error("--agent-command is empty");
    config.agent = { ...config.agent, command };
  }
  if (options.computeDriver) config.computeDriver = options.computeDriver;
  const cloud = await startDevcloud({
    dataDir: resolve(options.data),
    config,
    host: options.host,
    port: options.port,
  });
  return { cloud, config };
}

/** The lines printed once the devcloud listens. Only the well-known demo token is ever printed. */
export function banner(cloud: Devcloud, config: DevcloudConfig, dataDir: string): string {
  const demo = config.users.find((u) => u.token === DEMO_TOKEN);
  return [
    `devcloud listening on ${cloud.url}`,
    `  auth URL:   ${cloud.authUrl}`,
    demo
      ? `  demo token: ${DEMO_TOKEN} (user ${demo.uuid})`
      : `  users:      ${config.users.length} from the config file (tokens not shown)`,
    `  synnefo:    ${cloud.release}`,
    `  data:       ${resolve(dataDir)}`,
    `  agent:      ${config.agent ? config.agent.command.join(" ") : "none (agent-image VMs run nothing)"}`,
    `  VMs:        ${config.computeDriver === "qemu" ? "QEMU (qemu driver)" : "processes (process driver)"}`,
  ].join("\n");
}

function release(value: string): SynnefoRelease {
  if (!isSynnefoRelease(value)) throw new InvalidArgumentError(`one of ${SYNNEFO_RELEASES.join(", ")}`);
  return value;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("not a port number");
  return n;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  const program = new Command()
    .name("icaas-devcloud")
    .description(
      "A Synnefo-compatible cloud (Astakos, Cyclades, Pithos, Plankton) on one port, for development.",
    )
    .option("--port <port>", "port to listen on (0 picks a free one)", port, 8642)
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--data <dir>", "directory for blocks, objects and VMs (kept across restarts)", "./devcloud-data")
    .option("--config <file>", "JSON config: users, flavors, images, agent, networks, bootSeconds")
    .option("--agent-command <command>", 'what agent-image VMs run, e.g. "node agent.js --root {root}"')
    .option(
      "--synnefo <release>",
      `Synnefo release whose routes, answers and catalog to copy: ${SYNNEFO_RELEASES.join(", ")} (default: the config's, else 0.16)`,
      release,
    )
    .addOption(
      new Option(
        "--compute-driver <driver>",
        "what a VM is: process (default) or qemu (a booted disk)",
      ).choices([...DRIVER_NAMES]),
    )
    .parse(argv);
  const options = program.opts<CliOptions>();
  const { cloud, config } = await runDevcloud(options);
  console.log(banner(cloud, config, options.data));

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(`${signal}: stopping the devcloud and its VMs' processes…`);
    cloud.close().then(
      () => process.exit(0),
      (error) => {
        console.error("devcloud: error while stopping:", error);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

const invoked = process.argv[1] ? realpathSync(process.argv[1]) : "";
if (invoked === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`icaas-devcloud: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
