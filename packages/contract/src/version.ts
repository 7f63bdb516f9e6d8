/** @module version — the ICaaS version, shown by `--version`, `/icaas/health` and the CLI's User-Agent. */

/** Every workspace package carries this version (version.test.ts checks their package.json files). */
export const VERSION = "0.1.0";
