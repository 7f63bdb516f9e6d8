/** @module bundle — builds `dist/icaas-agent.mjs`: the agent and its dependencies in one file for Node 18. */
import { chmod } from "node:fs/promises";
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
  await chmod(outfile, 0o755);
  return outfile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await bundle(process.argv[2]);
  process.stdout.write(`${out}\n`);
}
