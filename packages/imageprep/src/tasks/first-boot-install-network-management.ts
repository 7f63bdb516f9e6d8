/** @module tasks/first-boot-install-network-management — installs network-manager and acpid (Debian/Ubuntu Bitnami) or NetworkManager (RHEL family) at first boot. */
import { enableAndStart } from "../first-boot.ts";
import { prepareTask } from "./types.ts";

export const firstBootInstallNetworkManagement = prepareTask({
  name: "first-boot-install-network-management",
  description:
    "At first boot: install network management (network-manager + acpid on Bitnami Debian/Ubuntu, NetworkManager on RHEL)",
  enabledByDefault: true,
  async run({ os, firstBoot, params }) {
    let script: string;
    if (os.family === "debian" && os.bitnami) {
      // What icaas-agent's host_run/bitnami appended to /root/firstboot.sh.
      const action = String(params.powerbtn_action ?? "/sbin/shutdown -h now");
      script = [
        "apt-get -y update",
        "apt-get -y install network-manager --no-install-recommends",
        "apt-get -y install acpid",
        `echo '${action.replace(/'/g, "'\\''")} "Power button pressed"' > /etc/acpi/powerbtn.sh`,
        "chmod 755 /etc/acpi/powerbtn.sh",
      ].join("\n");
    } else if (os.family === "rhel") {
      if (os.networkManager.enabled)
        return { changes: [], skipped: "NetworkManager is already installed and enabled" };
      const pm = os.packageManager === "dnf" ? "dnf" : "yum";
      script = [
        `rpm -q NetworkManager >/dev/null 2>&1 || ${pm} -y install NetworkManager`,
        enableAndStart(os.init, ["NetworkManager"]),
      ].join("\n");
    } else {
      return {
        changes: [],
        skipped: "only Bitnami images on Debian/Ubuntu and RHEL-family images get network management",
      };
    }
    firstBoot.push({
      name: "first-boot-install-network-management",
      description:
        "At first boot: install network management (network-manager + acpid on Bitnami Debian/Ubuntu, NetworkManager on RHEL)",
      script,
      network: true,
    });
    return { changes: [`queued: ${script.split("\n")[0]} …`] };
  },
});
