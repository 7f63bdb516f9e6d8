/** @module testing/agent-command.test — the agent command a devcloud VM runs really starts the agent. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { agentCommand, e2eAgentCommand, VM_ROOT } from "./agent-command.ts";

describe("agentCommand", () => {
  it("runs the agent CLI through an absolute tsx loader, the VM root left to the devcloud", () => {
    const command = agentCommand();
    assert.equal(command[0], process.execPath);
    assert.match(command[2]!, /^file:\/\/.*tsx/);
    assert.match(command[3]!, /packages\/agent\/src\/cli\.ts$/);
    assert.deepEqual(command.slice(4), ["--root", VM_ROOT]);
    assert.equal(VM_ROOT, "{root}");
  });

  it("starts from any directory (a VM's own), and the agent answers", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "icaas-agent-command-"));
    try {
      const [node, ...args] = agentCommand();
      const { stdout } = await promisify(execFile)(node!, [...args.slice(0, 3), "--help"], { cwd });
      assert.match(stdout, /--root/);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it("the e2e suite runs the TypeScript agent unless ICAAS_E2E_AGENT=bundle", async () => {
    assert.deepEqual(await e2eAgentCommand("/nonexistent", {}), agentCommand());
  });
});
