/** @module tasks/fix-acpid — makes the power button shut the machine down at once (the cloud's "shutdown"). */
import { prepareTask } from "./types.ts";

export const fixAcpid = prepareTask({
  name: "fix-acpid",
  description: "Make acpid shut down immediately when the power button is pressed",
  enabledByDefault: true,
  params: [
    {
      name: "powerbtn_action",
      type: "string",
      default: "/sbin/shutdown -h now",
      description: "The action that should be executed if the power button is pressed",
    },
  ],
  async run({ fs, params, log }) {
    const dir = "/etc/acpi/events";
    if (!(await fs.isDir(dir))) return { changes: [], skipped: "no acpid event directory" };
    const action = String(params.powerbtn_action);
    const files = (await fs.list(dir)).filter((e) => e.type === "file").map((e) => `${dir}/${e.name}`);
    const texts = await fs.readTexts(files);
    for (const [i, text] of texts.entries()) {
      if (text === undefined) continue;
      const lines = text.replace(/\n$/, "").split("\n");
      const event = lines.findIndex((l) => /^event=/i.test(l));
      const act = lines.findIndex((l) => /^action=/i.test(l));
      if (event < 0) continue;
      const path = files[i] as string;
      if (act < 0) {
        log(`fix-acpid: ${path} has an event but no action; left alone`);
        continue;
      }
      const entry = (lines[event] as string).split("=").slice(1).join("=").trim();
      if (entry === "button[ /]power" || entry === "button/power.*") {
        lines[act] = `action=${action}`;
        await fs.writeFile(path, `${lines.join("\n")}\n\n### Edited by ICaaS image preparation ###\n`);
        return { changes: [`${path}: power button runs ${action}`] };
      }
      if (entry === ".*") {
        log(`fix-acpid: ${path} catches every event; edit it by hand to shut down on the power button`);
        return { changes: [], skipped: `${path} handles all events (.*)` };
      }
    }
    return { changes: [], skipped: "no acpi power button event found" };
  },
});
