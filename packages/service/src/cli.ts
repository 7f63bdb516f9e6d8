#!/usr/bin/env -S node --import tsx
/** @module cli — `icaas-service [start|migrate|config]`; configuration from ICAAS_CONFIG and ICAAS_* env. */
import { Command } from "commander";
import { describeConfig, migrate, run, start } from "./main.ts";
import { VERSION } from "./service.ts";

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

await program.parseAsync();
