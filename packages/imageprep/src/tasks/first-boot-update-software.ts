/** @module tasks/first-boot-update-software — updates the installed software at first boot (apt, dnf, yum or zypper). */
import type { PackageManager } from "../inspect.ts";
import { prepareTask } from "./types.ts";

const APT = "apt-get -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold";

/** Shell lines per package manager: refresh the package lists, or refresh and upgrade. */
export function updateCommands(pm: PackageManager, mode: "refresh" | "upgrade"): string | undefined {
  switch (pm) {
    case "apt":
      return mode === "refresh" ? "apt-get -y update" : `apt-get -y update && ${APT} upgrade`;
    case "dnf":
      return mode === "refresh" ? "dnf -y makecache" : "dnf -y upgrade --refresh";
    case "yum":
      return mode === "refresh" ? "yum -y makecache" : "yum -y update";
    case "zypper":
      return mode === "refresh"
        ? "zypper --non-interactive refresh"
        : "zypper --non-interactive refresh && zypper --non-interactive update";
    default:
      return undefined;
  }
}

export const firstBootUpdateSoftware = prepareTask({
  name: "first-boot-update-software",
  description: "At first boot: update the software with the distribution's package manager",
  enabledByDefault: true,
  params: [
    {
      name: "software_update",
      type: "string",
      default: "upgrade",
      description: "refresh (package lists only) or upgrade (install available updates)",
    },
  ],
  async run({ os, params, firstBoot }) {
    const mode = params.software_update === "refresh" ? "refresh" : "upgrade";
    const script = os.packageManager ? updateCommands(os.packageManager, mode) : undefined;
    if (!script) return { changes: [], skipped: `no supported package manager for ${os.distro}` };
    firstBoot.push({
      name: "first-boot-update-software",
      description: "At first boot: update the software with the distribution's package manager",
      script,
      network: true,
    });
    return { changes: [`queued: ${script}`] };
  },
});
