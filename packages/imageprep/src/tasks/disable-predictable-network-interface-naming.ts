/** @module tasks/disable-predictable-network-interface-naming — adds net.ifnames=0 to the kernel command line. */
import { DEFAULT_GRUB, editKernelCommandLines, findShellVar, setShellVar } from "../boot-config.ts";
import { outcome, prepareTask } from "./types.ts";

const IFNAMES = /(^|\s)net\.ifnames=\d+\b/;

function withIfnames(cmdline: string): string {
  return IFNAMES.test(cmdline)
    ? cmdline.replace(/(^|\s)net\.ifnames=\d+\b/g, "$1net.ifnames=0")
    : `${cmdline} net.ifnames=0`;
}

export const disablePredictableNetworkInterfaceNaming = prepareTask({
  name: "disable-predictable-network-interface-naming",
  description: "Disable predictable network interface naming (net.ifnames=0), so the first NIC is eth0",
  enabledByDefault: true,
  async run({ fs }) {
    const changes = (await editKernelCommandLines(fs, (line) => withIfnames(line.replace(/\s+$/, "")))).map(
      (f) => `${f}: net.ifnames=0`,
    );
    const text = await fs.readText(DEFAULT_GRUB);
    if (text !== undefined) {
      let next = text;
      const linux = findShellVar(text, "GRUB_CMDLINE_LINUX");
      const dflt = findShellVar(text, "GRUB_CMDLINE_LINUX_DEFAULT");
      const has = [linux, dflt].filter((v) => v && IFNAMES.test(v.value));
      if (has.length > 0) {
        for (const [name, v] of [
          ["GRUB_CMDLINE_LINUX", linux],
          ["GRUB_CMDLINE_LINUX_DEFAULT", dflt],
        ] as const) {
          if (v && IFNAMES.test(v.value)) next = setShellVar(next, name, withIfnames(v.value));
        }
      } else {
        next = setShellVar(next, "GRUB_CMDLINE_LINUX", withIfnames(linux?.value ?? "").trim());
      }
      if (next !== text) {
        await fs.writeFile(DEFAULT_GRUB, next);
        changes.push(`${DEFAULT_GRUB}: net.ifnames=0`);
      }
    }
    return outcome(changes, "no boot loader configuration found");
  },
});
