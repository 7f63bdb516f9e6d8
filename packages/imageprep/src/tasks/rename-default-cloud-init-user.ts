/** @module tasks/rename-default-cloud-init-user — renames cloud-init's default user (off by default). */
import { parseDocument } from "yaml";
import { cloudInitConfig, cloudInitUsers, defaultUserOf } from "../cloud-init.ts";
import { outcome, prepareTask } from "./types.ts";

export const renameDefaultCloudInitUser = prepareTask({
  name: "rename-default-cloud-init-user",
  description: "Rename the default cloud-init user",
  enabledByDefault: false,
  params: [
    { name: "default_user", type: "string", default: "user", description: "Name of default cloud-init user" },
  ],
  async run({ fs, os, params, metadata }) {
    if (!os.cloudInit.enabled) return { changes: [], skipped: "not a cloud-init enabled image" };
    const name = String(params.default_user);
    const changes: string[] = [];
    let found = false;
    for (const file of os.cloudInit.files) {
      const text = await fs.readText(file);
      if (text === undefined) continue;
      const doc = parseDocument(text);
      const old = doc.getIn(["system_info", "default_user", "name"]);
      if (typeof old !== "string") continue;
      found = true;
      if (old === name) continue;
      // The original stays beside it, under a name cloud-init does not read.
      await fs.rename(file, `${file}.bak`);
      doc.setIn(["system_info", "default_user", "name"], name);
      await fs.writeFile(file, doc.toString(), { mode: 0o644, uid: 0, gid: 0 });
      changes.push(`${file}: default user ${old} → ${name} (original kept as ${file}.bak)`);
    }
    if (!found) return { changes: [], skipped: "no default cloud-init user is defined" };
    const cfg = await cloudInitConfig(fs, os.cloudInit.files);
    const users = cloudInitUsers(cfg);
    if (users.length > 0) metadata.USERS = users.join(" ");
    const du = defaultUserOf(cfg);
    if (du) metadata.CLOUD_INIT_DEFAULT_USER = du;
    return outcome(changes, `the default cloud-init user is already named ${name}`);
  },
});
