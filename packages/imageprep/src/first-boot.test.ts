/** @module first-boot.test — tests for the first-boot script: valid sh, self-removal per init system, rc.local placement. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addToRcLocal, enableAndStart, renderFirstBootScript } from "./first-boot.ts";
import { runTool } from "./run-tool.ts";

describe("first-boot script", () => {
  const actions = [
    { name: "one", description: "first", script: "echo one" },
    { name: "two", description: "second", script: "false" },
  ];
  for (const init of ["systemd", "upstart", "sysvinit"] as const) {
    it(`is valid sh and removes its ${init} hook`, async () => {
      const script = renderFirstBootScript(actions, init);
      await runTool("sh", ["-n", "-c", script]);
      assert.match(script, /^#!\/bin\/sh\n/);
      assert.match(script, /\(\necho one\n\) \|\| say "one failed with status \$\?"/);
      assert.match(script, /rm -f \/usr\/local\/sbin\/icaas-first-boot\nsay "done"\nexit 0\n$/);
      const hook = {
        systemd: /rm -f \S+multi-user\.target\.wants\/icaas-first-boot\.service \S+icaas-first-boot\.service/,
        upstart: /rm -f \/etc\/init\/icaas-first-boot\.conf/,
        sysvinit: /sed -i .* \/etc\/rc\.local/,
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
