/** @module ssh-keygen-hook — new SSH host keys made before sshd starts, at every boot that lacks them, without network. */
import type { ExtFs } from "./ext-fs.ts";
import type { InitSystem } from "./services.ts";

export const SSH_KEYGEN_SCRIPT = "/usr/local/sbin/icaas-ssh-keygen";
export const SSH_KEYGEN_UNIT = "/etc/systemd/system/icaas-ssh-keygen.service";
export const SSH_KEYGEN_UPSTART = "/etc/init/icaas-ssh-keygen.conf";
/** The units whose start pulls the key generation in (Debian/Ubuntu `ssh`, RHEL/SUSE `sshd`, socket activation). */
const PULLED_BY = ["multi-user.target", "ssh.service", "sshd.service", "ssh.socket", "sshd.socket"];

/** POSIX sh that makes the host keys that are missing; its status says whether any host key exists now. */
export const SSH_KEYGEN_COMMANDS = `command -v ssh-keygen >/dev/null 2>&1 || exit 0
[ -d /etc/ssh ] || exit 0
if ! ssh-keygen -A; then
  # OpenSSH before 6.0 (CentOS 6) has no -A.
  for t in rsa ecdsa ed25519; do
    [ -f "/etc/ssh/ssh_host_\${t}_key" ] || ssh-keygen -q -t "$t" -N "" -f "/etc/ssh/ssh_host_\${t}_key" || true
  done
fi
ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1`;

export const SSH_KEYGEN_SH = `#!/bin/sh
# Installed by ICaaS image preparation: the image carries no SSH host keys (machines made from it must
# not share them), so each machine makes its own before its SSH server starts. Needs no network.
${SSH_KEYGEN_COMMANDS}
`;

/**
 * Ordered before every sshd flavour, socket activation included. No default dependencies: those
 * would order it after basic.target, hence after sockets.target and ssh.socket — a cycle.
 */
export const SSH_KEYGEN_SERVICE = `[Unit]
Description=ICaaS: generate missing SSH host keys before the SSH server starts
DefaultDependencies=no
After=local-fs.target
Before=ssh.service sshd.service ssh.socket sshd.socket shutdown.target
Conflicts=shutdown.target
ConditionPathExists=/etc/ssh

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${SSH_KEYGEN_SCRIPT}

[Install]
WantedBy=${PULLED_BY.join(" ")}
`;

/** Upstart runs a task that starts on `starting X` to completion before X starts. */
export const SSH_KEYGEN_UPSTART_JOB = `# ICaaS: generate missing SSH host keys before the SSH server starts
description "ICaaS SSH host key generation"
start on (starting ssh or starting sshd)
task
exec ${SSH_KEYGEN_SCRIPT}
`;

/**
 * Installs the key generation so that it runs before sshd: a systemd unit enabled for
 * multi-user.target and for each sshd unit and socket, or an upstart task on `starting ssh`. On
 * other init systems it returns false: the first-boot script must generate the keys and restart sshd.
 */
export async function installSshKeygen(fs: ExtFs, init: InitSystem): Promise<string[] | false> {
  if (init !== "systemd" && init !== "upstart") return false;
  await fs.mkdir("/usr/local/sbin", { parents: true });
  await fs.writeFile(SSH_KEYGEN_SCRIPT, SSH_KEYGEN_SH, { mode: 0o755, uid: 0, gid: 0 });
  if (init === "upstart") {
    await fs.writeFile(SSH_KEYGEN_UPSTART, SSH_KEYGEN_UPSTART_JOB, { mode: 0o644, uid: 0, gid: 0 });
    return [`installed ${SSH_KEYGEN_UPSTART}: ${SSH_KEYGEN_SCRIPT} runs when ssh/sshd is starting`];
  }
  await fs.writeFile(SSH_KEYGEN_UNIT, SSH_KEYGEN_SERVICE, { mode: 0o644, uid: 0, gid: 0 });
  for (const unit of PULLED_BY) {
    const wants = `/etc/systemd/system/${unit}.wants`;
    await fs.mkdir(wants, { parents: true });
    const link = `${wants}/icaas-ssh-keygen.service`;
    if (!(await fs.lstat(link))) await fs.symlink(link, SSH_KEYGEN_UNIT);
  }
  return [`installed and enabled ${SSH_KEYGEN_UNIT}, ordered before ssh/sshd (service and socket)`];
}
