#!/usr/bin/env node
// Runs src/cli.ts through tsx from any directory: tsx is found from this checkout, not from the cwd.
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
register();
process.argv[1] = cli;
await import(cli);
