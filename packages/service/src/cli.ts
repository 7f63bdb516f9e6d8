#!/usr/bin/env -S node --import tsx
import { VERSION } from "@icaas/contract";
/** @module cli — `icaas-service [start|migrate|config|agent-image register]`; configuration from ICAAS_CONFIG and ICAAS_* env. */
import { Command } from "commander";
import { registerCommand, TOKEN_ENV } from "./agent-image/command.ts";
import { describeConfig, migrate, run, start } from "./main.ts";

const program = new Command("icaas-service")
  .description(
    "The ICaaS REST API, job runner and sweeper. Configure with ICAAS_CONFIG=<file.json> and ICAAS_* variables.",
  )
  .version(VERSION);

program
  .command("start", { isDefault: true })
  .description("migrate the database and serve until SIGTERM/SIGINT")
  .action(() => run(() => start()));

program
  .command("migrate")
  .description("apply database migrations and exit")
  .action(() => run(() => migrate()));

program
  .command("config")
  .description("print the effective configuration (secrets hidden) and exit")
  .action(() => run(async () => console.log(JSON.stringify(describeConfig(), null, 2))));

program
  .command("agent-image")
  .description("the agent VM image (deploy/agent-image/build.sh)")
  .command("register")
  .argument("<file>", "the raw diskdump that build.sh wrote")
  .description(
    `upload it (hashmap upload: only the blocks Pithos lacks) and register it public in Plankton; print its id and the agentImageId line. The token comes from --token-file or ${TOKEN_ENV}. Again on the same file: the same id, nothing sent.`,
  )
  .option("--auth-url <url>", "Astakos' identity URL (default ICAAS_AUTH_URL)")
  .option("--token-file <path>", `a file holding the owner's token (default: ${TOKEN_ENV})`)
  .option("--name <name>", "the image's name (default: ICaaS agent (Debian 12))")
  .option("--container <name>", "Pithos container", "images")
  .option("--object <name>", "Pithos object (default: the file's name)")
  .option("--os-version <version>", "Debian's release, for OSVERSION", "12")
  .option("--json", "print the result as JSON")
  .action((file: string, flags) => run(() => registerCommand(file, flags)));

await program.parseAsync();
