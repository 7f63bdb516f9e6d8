/** @module tasks/first-boot-enable-remote-access — turns sshd on now where it is installed, and installs/starts it at first boot. */
import { enableAndStart } from "../first-boot.ts";
import type { PackageManager } from "../inspect.ts";
import { prepareTask } from "./types.ts";

const UNIT_DIRS = ["/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"];
const WANTS = "/etc/systemd/system/multi-user.target.wants";

function installSshd(pm: PackageManager | undefined): string {
  switch (pm) {
    case "apt":
      return "apt-get -y update && apt-get -y install openssh-server";
    case "dnf":
      return "dnf -y install openssh-server";
    case "yum":
      return "yum -y install openssh-server";
    case "zypper":
      return "zypper --non-interactive install openssh";
    default:
      return "echo 'no package manager to install an SSH server with'";
  }
}

export const firstBootEnableRemoteAccess = prepareTask({
  name: "first-boot-enable-remote-access",
  description:
    "Enable the SSH server (now where installed; at first boot: install if missing, enable and start)",
  enabledByDefault: true,
  async run({ fs, os, firstBoot }) {
    const changes: string[] = [];
    if (await fs.remove("/etc/ssh/sshd_not_to_be_run")) changes.push("removed /etc/ssh/sshd_not_to_be_run");
    if (os.init === "systemd" && !os.sshd.enabled) {
      for (const unit of ["ssh.service", "sshd.service"]) {
        let target: string | undefined;
        for (const d of UNIT_DIRS) if (!target && (await fs.isFile(`${d}/${unit}`))) target = `${d}/${unit}`;
        if (!target) continue;
        if (!(await fs.lstat(`${WANTS}/${unit}`))) {
          await fs.mkdir(WANTS, { parents: true });
          await fs.symlink(`${WANTS}/${unit}`, target);
          changes.push(`enabled ${unit} in multi-user.target`);
        }
        break;
      }
    }
    if (
      os.init === "upstart" &&
      (await fs.isFile("/etc/init/ssh.conf.back")) &&
      !(await fs.lstat("/etc/init/ssh.conf"))
    ) {
      await fs.rename("/etc/init/ssh.conf.back", "/etc/init/ssh.conf");
      changes.push("restored /etc/init/ssh.conf");
    }
    const script = [
      `if ! command -v sshd >/dev/null 2>&1 && [ ! -x /usr/sbin/sshd ]; then ${installSshd(os.packageManager)}; fi`,
      "rm -f /etc/ssh/sshd_not_to_be_run",
      enableAndStart(os.init, ["ssh", "sshd"]),
    ].join("\n");
    firstBoot.push({
      name: "first-boot-enable-remote-access",
      description:
        "Enable the SSH server (now where installed; at first boot: install if missing, enable and start)",
      script,
      // Only installing a missing sshd downloads anything.
      network: !os.sshd.installed,
    });
    changes.push("queued: install sshd if missing, enable and start it");
    return { changes };
  },
});
