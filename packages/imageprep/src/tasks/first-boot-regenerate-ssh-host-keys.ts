/** @module tasks/first-boot-regenerate-ssh-host-keys — new SSH host keys on each machine, made before sshd starts. */
import { restartIfEnabled } from "../first-boot.ts";
import { installSshKeygen, SSH_KEYGEN_COMMANDS, SSH_KEYGEN_SCRIPT } from "../ssh-keygen-hook.ts";
import { prepareTask } from "./types.ts";

const DESCRIPTION = "Generate new SSH host keys before the SSH server starts (no network needed)";

export const firstBootRegenerateSshHostKeys = prepareTask({
  name: "first-boot-regenerate-ssh-host-keys",
  description: DESCRIPTION,
  enabledByDefault: true,
  async run({ fs, os, firstBoot }) {
    const hooked = await installSshKeygen(fs, os.init);
    if (hooked) return { changes: hooked };
    // sysvinit / rc.local: nothing runs before the ssh init script, so the first-boot script makes
    // the keys and restarts sshd, which failed to start without them earlier in this boot.
    firstBoot.push({
      name: "first-boot-regenerate-ssh-host-keys",
      description: DESCRIPTION,
      script: `${SSH_KEYGEN_COMMANDS}\n${restartIfEnabled(os.init, ["ssh", "sshd"])}`,
    });
    return {
      changes: [`queued: ssh-keygen -A, then restart sshd (no ${SSH_KEYGEN_SCRIPT} hook for ${os.init})`],
    };
  },
});
