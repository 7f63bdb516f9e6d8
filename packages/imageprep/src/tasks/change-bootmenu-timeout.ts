/** @module tasks/change-bootmenu-timeout — sets the boot menu timeout of GRUB 1/2 and syslinux. */
import { DEFAULT_GRUB, GRUB1_CONFIGS, GRUB2_CONFIGS, SYSLINUX_CONFIGS, setShellVar } from "../boot-config.ts";
import { outcome, prepareTask } from "./types.ts";

export const changeBootmenuTimeout = prepareTask({
  name: "change-bootmenu-timeout",
  description: "Change the boot menu timeout",
  enabledByDefault: true,
  params: [
    { name: "bootmenu_timeout", type: "posint", default: 10, description: "Boot menu timeout in seconds" },
  ],
  async run({ fs, params }) {
    const timeout = Number(params.bootmenu_timeout);
    const changes: string[] = [];
    const defaults = await fs.readText(DEFAULT_GRUB);
    if (defaults !== undefined) {
      const next = setShellVar(defaults, "GRUB_TIMEOUT", String(timeout));
      if (next !== defaults) {
        await fs.writeFile(DEFAULT_GRUB, next);
        changes.push(`${DEFAULT_GRUB}: GRUB_TIMEOUT=${timeout}`);
      }
    }
    const rules: Array<[string[], RegExp, number]> = [
      [GRUB1_CONFIGS.slice(0, 1), /^(\s*timeout\s+)\d+(\s*)$/gm, timeout],
      [GRUB2_CONFIGS, /^(\s*set\s+timeout=)\d+(\s*)$/gm, timeout],
      // syslinux counts in tenths of a second.
      [SYSLINUX_CONFIGS, /^(\s*timeout\s+)\d+(\s*)$/gim, timeout * 10],
    ];
    for (const [paths, re, value] of rules) {
      const texts = await fs.readTexts(paths);
      for (const [i, text] of texts.entries()) {
        if (text === undefined) continue;
        const next = text.replace(re, (_m, a: string, b: string) => `${a}${value}${b}`);
        if (next !== text) {
          await fs.writeFile(paths[i] as string, next);
          changes.push(`${paths[i]}: timeout ${value}`);
        }
      }
    }
    return outcome(changes, "no boot loader configuration found");
  },
});
