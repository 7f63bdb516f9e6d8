#!/usr/bin/env -S node --import tsx
/** @module cli — `icaas-agent`: parses the command line, wires signals, runs the agent once. */
import { Command } from "commander";
import { DEFAULT_MANIFEST, runAgent } from "./agent.ts";

const program = new Command()
  .name("icaas-agent")
  .description("Builds one Synnefo image as the ICaaS manifest says, reporting to the ICaaS service")
  .option("-m, --manifest <path>", "the INI manifest (inside --root when given)", DEFAULT_MANIFEST)
  .option("--root <dir>", "the machine's root directory (a devcloud VM directory)", "/")
  .option("--work-dir <dir>", "where scratch files go (default <root>/var/tmp)")
  .action(async (opts: { manifest: string; root: string; workDir?: string }) => {
    const controller = new AbortController();
    let signals = 0;
    const onSignal = (name: NodeJS.Signals) => {
      signals++;
      // A second signal means "now": the first is already stopping the build and reporting it.
      if (signals > 1) process.exit(130);
      process.stderr.write(`icaas-agent: ${name} received; stopping the build\n`);
      controller.abort();
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    const code = await runAgent({
      manifest: opts.manifest,
      root: opts.root,
      workDir: opts.workDir,
      signal: controller.signal,
    });
    process.exit(code);
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`icaas-agent: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(70);
});
