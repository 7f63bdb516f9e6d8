/** @module tasks/disable-serial-console — removes serial consoles (console=ttyS0, console=ttyUSB0, earlyprintk=serial) from the kernel command line. */
import { DEFAULT_GRUB, editKernelCommandLines, findShellVar, setShellVar } from "../boot-config.ts";
import { outcome, prepareTask } from "./types.ts";

const SERIAL = /(\s+(console=tty[SU]|earlyprintk=(serial|ttyS))[^\s"']*)+/g;

/** The command line without serial console options. */
export function withoutSerial(cmdline: string): string {
  return ` ${cmdline}`.replace(SERIAL, "").replace(/\s+$/, "").slice(1);
}

export const disableSerialConsole = prepareTask({
  name: "disable-serial-console",
  description: "Disable the serial console (console=ttyS*, earlyprintk=serial)",
  enabledByDefault: true,
  async run({ fs }) {
    const changes = (
      await editKernelCommandLines(fs, (line) => line.replace(SERIAL, "").replace(/\s+$/, ""))
    ).map((f) => `${f}: serial console removed`);
    const text = await fs.readText(DEFAULT_GRUB);
    if (text !== undefined) {
      let next = text;
      for (const name of ["GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT"]) {
        const v = findShellVar(next, name);
        if (v && withoutSerial(v.value) !== v.value) next = setShellVar(next, name, withoutSerial(v.value));
      }
      if (next !== text) {
        await fs.writeFile(DEFAULT_GRUB, next);
        changes.push(`${DEFAULT_GRUB}: serial console removed`);
      }
    }
    return outcome(changes, "no serial console configured");
  },
});
