/** @module tasks/first-boot-regenerate-ssh-host-keys — makes new SSH host keys at first boot, then (re)starts sshd. */
import { restartIfEnabled } from "../first-boot.ts";
import type { Task } from "./types.ts";

export const firstBootRegenerateSshHostKeys: Task = {
  name: "first-boot-regenerate-ssh-host-keys",
  description: "At first boot: generate new SSH host keys and restart sshd",
  enabledByDefault: true,
  stage: "prepare",
  async run({ os, firstBoot }) {
    const script = [
      "command -v ssh-keygen >/dev/null 2>&1 || exit 0",
      // OpenSSH before 6.0 (CentOS 6) has no -A.
      "ssh-keygen -A || for t in rsa ecdsa ed25519; do",
      '  [ -f "/etc/ssh/ssh_host_"$t"_key" ] || ssh-keygen -q -t "$t" -N "" -f "/etc/ssh/ssh_host_"$t"_key"',
      "done",
      // sshd refused to start without keys earlier in this boot.
      restartIfEnabled(os.init, ["ssh", "sshd"]),
    ].join("\n");
    firstBoot.push({
      name: "first-boot-regenerate-ssh-host-keys",
      description: "At first boot: generate new SSH host keys and restart sshd",
      script,
    });
    return { changes: ["queued: ssh-keygen -A, then restart sshd"] };
  },
};
