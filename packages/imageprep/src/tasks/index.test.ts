/** @module tasks/index.test — tests for the task registry: order, defaults, selection by name, parameters. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isImagePrepError } from "../errors.ts";
import { listTasks, resolveParams, selectTasks } from "./index.ts";

describe("task registry", () => {
  it("lists snf-image-creator's Linux tasks in its order, then ICaaS's, shrink last", () => {
    const names = listTasks().map((t) => t.name);
    const snf = [
      "cleanup-cache",
      "cleanup-tmp",
      "cleanup-log",
      "cleanup-mail",
      "cleanup-userdata",
      "cleanup-passwords",
      "remove-user-accounts",
      "rename-default-cloud-init-user",
      "enable-root-in-cloud-init",
      "fix-acpid",
      "remove-persistent-net-rules",
      "remove-swap-entry",
      "change-bootmenu-timeout",
      "use-persistent-block-device-names",
      "disable-ipv6-privacy-extensions",
      "disable-predictable-network-interface-naming",
      "disable-serial-console",
      "clear-local-machine-id-configuration-file",
      "remove-networkmanager-system-connections",
    ];
    assert.deepEqual(
      names.filter((n) => snf.includes(n)),
      snf,
    );
    assert.equal(names[0], "bitnami");
    assert.equal(names.at(-1), "shrink");
    const off = listTasks()
      .filter((t) => !t.enabledByDefault)
      .map((t) => t.name);
    assert.deepEqual(off, [
      "cleanup-mail",
      "remove-user-accounts",
      "rename-default-cloud-init-user",
      "enable-root-in-cloud-init",
    ]);
  });

  it("selects defaults + enable - disable, and rejects unknown names", () => {
    const s = selectTasks(["cleanup-mail"], ["cleanup-log", "cleanup-mail"]);
    assert.equal(s.has("cleanup-mail"), false, "disable wins");
    assert.equal(s.has("cleanup-log"), false);
    assert.equal(s.has("cleanup-tmp"), true);
    assert.throws(
      () => selectTasks(["cleanup-everything"]),
      (e) => isImagePrepError(e, "invalid_option"),
    );
  });

  it("fills parameter defaults and checks given values", () => {
    const p = resolveParams({ sensitive_userdata: "a\\,b,c", bootmenu_timeout: "7" });
    assert.deepEqual(p.sensitive_userdata, ["a,b", "c"]);
    assert.equal(p.bootmenu_timeout, 7);
    assert.equal(p.powerbtn_action, "/sbin/shutdown -h now");
    assert.equal(resolveParams().default_user, "user");
    assert.throws(
      () => resolveParams({ bootmenu_timeout: "ten" }),
      (e) => isImagePrepError(e, "invalid_option"),
    );
    assert.throws(
      () => resolveParams({ sensitive_userdata: "" }),
      (e) => isImagePrepError(e, "invalid_option"),
    );
  });
});
