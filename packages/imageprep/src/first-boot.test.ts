/** @module first-boot.test — tests for the first-boot script: valid sh, self-removal per init system, rc.local placement. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addToRcLocal, enableAndStart } from "./first-boot.ts";
import { renderFirstBootScript } from "./first-boot-script.ts";
import { runTool } from "./run-tool.ts";

describe("first-boot script", () => {
  const actions = [
    { name: "first-boot-one", description: "first", script: "echo one" },
    { name: "first-boot-two", description: "second", script: "false", network: true },
  ];
  for (const init of ["systemd", "upstart", "sysvinit"] as const) {
    it(`is valid sh (dash and bash --posix) and removes its ${init} hook when done`, async () => {
      const script = renderFirstBootScript(actions, init);
      await runTool("dash", ["-n", "-c", script]);
      await runTool("bash", ["--posix", "-n", "-c", script]);
      assert.match(script, /^#!\/bin\/sh\n/);
      assert.match(script, /^step_1\(\) \{\necho one\n\}$/m);
      assert.match(script, /^run_step one no step_1\nrun_step two yes step_2$/m);
      assert.match(
        script,
        /rm -f "\$R\/usr\/local\/sbin\/icaas-first-boot"\n: >"\$STATE\/done"\nsay "done"\nexit 0\n$/,
      );
      const hook = {
        systemd:
          /rm -f "\$R\S+multi-user\.target\.wants\/icaas-first-boot\.service" "\$R\S+icaas-first-boot\.service"/,
        upstart: /rm -f "\$R\/etc\/init\/icaas-first-boot\.conf"/,
        sysvinit: /sed -i .* "\$R\/etc\/rc\.local"/,
      }[init];
      assert.match(script, hook);
    });
  }

  it("service helpers are valid sh for every init system", async () => {
    for (const init of ["systemd", "upstart", "sysvinit"] as const)
      await runTool("sh", ["-n", "-c", enableAndStart(init, ["ssh", "sshd"])]);
  });

  it("goes into rc.local before the final exit 0, once", () => {
    const rc = "#!/bin/sh -e\necho hi\nexit 0\n";
    const once = addToRcLocal(rc);
    assert.equal(once, "#!/bin/sh -e\necho hi\n/usr/local/sbin/icaas-first-boot || true\nexit 0\n");
    assert.equal(addToRcLocal(once), once);
    assert.equal(addToRcLocal(undefined), "#!/bin/sh -e\n/usr/local/sbin/icaas-first-boot || true\nexit 0\n");
    assert.equal(
      addToRcLocal("#!/bin/sh\necho x\n"),
      "#!/bin/sh\necho x\n/usr/local/sbin/icaas-first-boot || true\n",
    );
  });
});
