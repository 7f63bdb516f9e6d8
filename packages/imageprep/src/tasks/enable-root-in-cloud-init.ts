/** @module tasks/enable-root-in-cloud-init — lets cloud-init keep root usable (off by default). */
import { stringify } from "yaml";
import { cloudInitConfig } from "../cloud-init.ts";
import { prepareTask } from "./types.ts";

export const ENABLE_ROOT_CFG = "/etc/cloud/cloud.cfg.d/60_icaas-enable-root.cfg";

export const enableRootInCloudInit = prepareTask({
  name: "enable-root-in-cloud-init",
  description: "Enable the root account in cloud-init",
  enabledByDefault: false,
  async run({ fs, os, metadata }) {
    if (!os.cloudInit.enabled) return { changes: [], skipped: "not a cloud-init enabled image" };
    const cfg = await cloudInitConfig(fs, os.cloudInit.files);
    const extra: Record<string, unknown> = {};
    if (cfg.disable_root === undefined || cfg.disable_root === true) extra.disable_root = false;
    const users = Array.isArray(cfg.users) ? (cfg.users as unknown[]) : ["default"];
    if (!users.includes("root")) extra.users = [...users, "root"];
    if (Object.keys(extra).length === 0) return { changes: [], skipped: "root is already enabled" };
    await fs.mkdir("/etc/cloud/cloud.cfg.d", { parents: true });
    await fs.writeFile(ENABLE_ROOT_CFG, stringify(extra), { mode: 0o644, uid: 0, gid: 0 });
    const list = (metadata.USERS ?? "").split(" ").filter((u) => u && u !== "root");
    metadata.USERS = ["root", ...list].join(" ");
    return { changes: [`wrote ${ENABLE_ROOT_CFG} (${Object.keys(extra).join(", ")})`] };
  },
});
