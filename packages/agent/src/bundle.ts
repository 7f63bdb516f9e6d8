/** @module bundle — builds `dist/icaas-agent.mjs`: the agent and its dependencies in one file for Node 18. */
import { chmod, readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * One ESM file that Debian 12's own `nodejs` (v18) runs: syntax lowered to node18, every npm and
 * workspace dependency inlined, `require` provided for the CommonJS ones (yauzl, ini). undici 7
 * (used by @icaas/synnefo) needs Node ≥ 20.18, so the bundle takes undici 6 (Node ≥ 18.17) instead:
 * the two share the `request`/`Agent` API the clients use.
 */
export async function bundle(outfile = `${root}dist/icaas-agent.mjs`): Promise<string> {
  await build({
    entryPoints: [`${root}src/cli.ts`],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node18",
    legalComments: "none",
    logLevel: "warning",
    alias: { undici: "undici6" },
    banner: {
      js: 'import { createRequire as __icaasCreateRequire } from "node:module"; const require = __icaasCreateRequire(import.meta.url);',
    },
  });
  // esbuild keeps the source's hashbang (node --import tsx, for development); the bundle is plain JS.
  const code = await readFile(outfile, "utf8");
  await writeFile(
    outfile,
    `#!/usr/bin/env node\n${code.startsWith("#!") ? code.slice(code.indexOf("\n") + 1) : code}`,
  );
  await chmod(outfile, 0o755);
  return outfile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await bundle(process.argv[2]);
  process.stdout.write(`${out}\n`);
}
