/** @module testing/agent-command — the one definition of how a devcloud VM (or a test) starts the agent. */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The agent's command line entry point, in TypeScript. */
export const AGENT_CLI = fileURLToPath(new URL("../cli.ts", import.meta.url));

/** What the devcloud replaces with the VM's root directory in an agent command. */
export const VM_ROOT = "{root}";

/**
 * The agent's CLI run through tsx, for a VM rooted at `root` (default: the devcloud's placeholder).
 * The loader is an absolute URL: the VM process runs in its own directory, outside the repository.
 */
export function agentCommand(root = VM_ROOT): string[] {
  return [process.execPath, "--import", import.meta.resolve("tsx"), AGENT_CLI, "--root", root];
}

/** The one-file bundle the agent VM image carries, built into `dir`, run by `node` (default: this one). */
export async function agentBundleCommand(dir: string, node = process.execPath): Promise<string[]> {
  // Loaded only here: esbuild is a development tool most users of this module never need.
  const { bundle } = await import("../bundle.ts");
  return [node, await bundle(join(dir, "icaas-agent.mjs")), "--root", VM_ROOT];
}

/**
 * The agent whole-system tests run: `agentCommand()`, or with `ICAAS_E2E_AGENT=bundle` the bundle
 * (built into `dir`) under `ICAAS_E2E_NODE` (e.g. Debian 12's Node 18) or this node.
 */
export async function e2eAgentCommand(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  if (env.ICAAS_E2E_AGENT === "bundle") return agentBundleCommand(dir, env.ICAAS_E2E_NODE || undefined);
  return agentCommand();
}
