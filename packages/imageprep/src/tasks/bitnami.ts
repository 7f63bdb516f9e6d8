/** @module tasks/bitnami — the changes GRNET's icaas-agent made to Bitnami images (its host_run/bitnami script). */
import { outcome, prepareTask } from "./types.ts";

/** The line host_run/bitnami puts in /etc/init.d/welcome: the old one breaks on cloud network names. */
export const WELCOME_IPADDRESS =
  "ipaddress=$(ifconfig | grep \"inet addr\"| awk 'NR==1 {print $2}' | awk 'BEGIN { FS=\":\" } { print $2 }')";

/** snf-image's deploy-time hook that sets the Bitnami application and system passwords (verbatim from icaas-agent). */
export const CHANGE_PASSWORD_HELPER = `#!/bin/bash

source /usr/share/snf-image-helper/common.sh

set -e

if [ $1 = post-exec ]; then
    exit 0
fi

if [ -n "\${SNF_IMAGE_PASSWD_HASH+dummy}" ]; then
    warn "Can't handle password hashes"
    exit 101
fi

if [ -z "\${SNF_IMAGE_PASSWD+dummy}" ]; then
    warn "Not running. Password not set"
    exit 101
fi

if [ -f "$SNF_IMAGE_TARGET/opt/bitnami/scripts/init/functions" ]; then
    if grep vm_get_applications_password "$SNF_IMAGE_TARGET/opt/bitnami/scripts/init/functions" &>/dev/null; then
        echo -e "\\nvm_get_applications_password() {\\necho \\"$SNF_IMAGE_PASSWD\\"\\n}\\n" >> "$SNF_IMAGE_TARGET/opt/bitnami/scripts/init/functions"
    fi

    if grep vm_get_system_password "$SNF_IMAGE_TARGET/opt/bitnami/scripts/init/functions" &>/dev/null; then
        echo -e "\\nvm_get_system_password() {\\necho \\"$SNF_IMAGE_PASSWD\\"\\n}\\n" >> "$SNF_IMAGE_TARGET/opt/bitnami/scripts/init/functions"
    fi
else
    warn "File: \\\`/opt/bitnami/scripts/init/functions' does not exist!"
fi
exit 101
`;

export const CHANGE_PASSWORD_HELPER_PATH = "/root/snf-image/helper/overwrite_task_ChangePassword";

const SSH_UNIT_DIRS = ["/lib/systemd/system", "/usr/lib/systemd/system", "/etc/systemd/system"];

/**
 * Runs on Bitnami images only (OS=bitnami): drops the forced password change (the password is locked
 * now and reset by Synnefo at deploy time), fixes the welcome screen's address lookup, turns SSH on
 * (old Ubuntu stacks keep the upstart job as ssh.conf.back; current Debian ones block ssh.service with
 * /etc/ssh/sshd_not_to_be_run), and installs snf-image's ChangePassword override. The network-manager
 * and acpid installs that host_run/bitnami appended to /root/firstboot.sh are the first-boot task
 * `first-boot-install-network-management`.
 */
export const bitnami = prepareTask({
  name: "bitnami",
  description: "Apply the Bitnami changes: no forced password change, SSH on, password helper",
  enabledByDefault: true,
  async run({ fs, os, metadata }) {
    if (!os.bitnami) return { changes: [], skipped: "not a Bitnami image (no /opt/bitnami)" };
    const changes: string[] = [];
    if (await fs.remove("/home/bitnami/change-password.sh"))
      changes.push("removed /home/bitnami/change-password.sh");
    const welcome = await fs.readText("/etc/init.d/welcome");
    if (welcome !== undefined) {
      const next = welcome.replace(/ipaddress=.*/g, () => WELCOME_IPADDRESS);
      if (next !== welcome) {
        await fs.writeFile("/etc/init.d/welcome", next);
        changes.push("fixed ipaddress= in /etc/init.d/welcome");
      }
    }
    if ((await fs.isFile("/etc/init/ssh.conf.back")) && !(await fs.lstat("/etc/init/ssh.conf"))) {
      await fs.rename("/etc/init/ssh.conf.back", "/etc/init/ssh.conf");
      changes.push("restored /etc/init/ssh.conf (upstart starts sshd again)");
    }
    if (await fs.remove("/etc/ssh/sshd_not_to_be_run")) changes.push("removed /etc/ssh/sshd_not_to_be_run");
    if (os.init === "systemd") {
      const wants = "/etc/systemd/system/multi-user.target.wants/ssh.service";
      for (const dir of SSH_UNIT_DIRS) {
        if (!(await fs.isFile(`${dir}/ssh.service`))) continue;
        if (!(await fs.lstat(wants))) {
          await fs.mkdir("/etc/systemd/system/multi-user.target.wants", { parents: true });
          await fs.symlink(wants, `${dir}/ssh.service`);
          changes.push("enabled ssh.service in multi-user.target");
        }
        break;
      }
    }
    await fs.mkdir("/root/snf-image/helper", { parents: true, mode: 0o755 });
    await fs.writeFile(CHANGE_PASSWORD_HELPER_PATH, CHANGE_PASSWORD_HELPER, { mode: 0o755, uid: 0, gid: 0 });
    changes.push(`wrote ${CHANGE_PASSWORD_HELPER_PATH}`);
    // snf-image runs an image's own task overrides only when this is set.
    metadata.ALLOW_MOUNTED_TASK_OVERWRITING = "yes";
    return outcome(changes, "nothing to change");
  },
});
