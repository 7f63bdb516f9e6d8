/** @module first-boot — installs the first-boot script: a systemd oneshot, or an upstart job / rc.local line on older guests. */
import type { ExtFs } from "./ext-fs.ts";
import {
  FIRST_BOOT_SCRIPT,
  FIRST_BOOT_UNIT,
  FIRST_BOOT_UPSTART,
  FIRST_BOOT_WANTS,
  type FirstBootAction,
  RC_LOCAL_LINE,
  renderFirstBootScript,
} from "./first-boot-script.ts";
import type { InitSystem } from "./services.ts";

export const FIRST_BOOT_SERVICE = `[Unit]
Description=ICaaS first-boot actions (until each has succeeded once, then removed)
Wants=network-online.target
After=network-online.target
ConditionPathExists=${FIRST_BOOT_SCRIPT}

[Service]
Type=oneshot
ExecStart=${FIRST_BOOT_SCRIPT}
StandardOutput=journal+console
TimeoutStartSec=30min

[Install]
WantedBy=multi-user.target
`;

export const FIRST_BOOT_UPSTART_JOB = `# ICaaS first-boot actions (until each has succeeded once, then removed)
description "ICaaS first-boot actions"
start on (local-filesystems and net-device-up IFACE!=lo)
task
console output
exec ${FIRST_BOOT_SCRIPT}
`;

/**
 * Shell lines that enable and start the first service of `units` that exists (systemd unit names
 * without `.service`, which are also the sysv/upstart job names).
 */
export function enableAndStart(init: InitSystem, units: string[]): string {
  if (init === "systemd") {
    const list = units.map((u) => `${u}.service`).join(" ");
    return [
      `for u in ${list}; do`,
      `  if systemctl cat "$u" >/dev/null 2>&1; then systemctl enable "$u"; systemctl reset-failed "$u" 2>/dev/null; systemctl restart "$u"; break; fi`,
      "done",
    ].join("\n");
  }
  const list = units.join(" ");
  const lines = [`for u in ${list}; do`];
  if (init === "upstart") {
    lines.push(
      '  if [ -f "/etc/init/$u.conf.back" ] && [ ! -f "/etc/init/$u.conf" ]; then mv "/etc/init/$u.conf.back" "/etc/init/$u.conf"; fi',
      '  if [ -f "/etc/init/$u.conf" ]; then initctl restart "$u" 2>/dev/null || initctl start "$u"; break; fi',
    );
  }
  lines.push(
    '  if [ -x "/etc/init.d/$u" ]; then',
    '    if command -v update-rc.d >/dev/null 2>&1; then update-rc.d "$u" enable 2>/dev/null || update-rc.d "$u" defaults; fi',
    '    if command -v chkconfig >/dev/null 2>&1; then chkconfig "$u" on; fi',
    '    "/etc/init.d/$u" restart; break',
    "  fi",
    "done",
  );
  return lines.join("\n");
}

/** Shell lines that restart the first of `units` that is enabled, and do nothing otherwise. */
export function restartIfEnabled(init: InitSystem, units: string[]): string {
  if (init === "systemd") {
    const list = units.map((u) => `${u}.service`).join(" ");
    return [
      `for u in ${list}; do`,
      '  if systemctl is-enabled --quiet "$u" 2>/dev/null; then systemctl reset-failed "$u" 2>/dev/null; systemctl restart "$u"; break; fi',
      "done",
    ].join("\n");
  }
  const lines = [`for u in ${units.join(" ")}; do`];
  if (init === "upstart")
    lines.push(
      '  if [ -f "/etc/init/$u.conf" ]; then initctl restart "$u" 2>/dev/null || initctl start "$u"; break; fi',
    );
  lines.push('  if [ -x "/etc/init.d/$u" ]; then "/etc/init.d/$u" restart; break; fi', "done");
  return lines.join("\n");
}

/** Adds the rc.local line before the final `exit 0` (rc.local runs with `sh -e`, hence `|| true`). */
export function addToRcLocal(text: string | undefined): string {
  if (text === undefined || text.trim() === "") return `#!/bin/sh -e\n${RC_LOCAL_LINE}\nexit 0\n`;
  if (text.includes(RC_LOCAL_LINE)) return text;
  const lines = text.replace(/\n$/, "").split("\n");
  let at = lines.length;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^\s*exit\s+0\s*$/.test(lines[i] as string)) {
      at = i;
      break;
    }
  }
  lines.splice(at, 0, RC_LOCAL_LINE);
  return `${lines.join("\n")}\n`;
}

/**
 * Writes the first-boot script and hooks it into the guest's init system: a systemd oneshot unit
 * enabled in multi-user.target, else an upstart job, else a line in /etc/rc.local. Returns the changes.
 */
export async function installFirstBoot(
  fs: ExtFs,
  init: InitSystem,
  actions: FirstBootAction[],
): Promise<string[]> {
  if (actions.length === 0) return [];
  await fs.mkdir("/usr/local/sbin", { parents: true });
  await fs.writeFile(FIRST_BOOT_SCRIPT, renderFirstBootScript(actions, init), {
    mode: 0o755,
    uid: 0,
    gid: 0,
  });
  const changes = [`wrote ${FIRST_BOOT_SCRIPT} (${actions.map((a) => a.name).join(", ")})`];
  if (init === "systemd") {
    await fs.mkdir("/etc/systemd/system/multi-user.target.wants", { parents: true });
    await fs.writeFile(FIRST_BOOT_UNIT, FIRST_BOOT_SERVICE, { mode: 0o644, uid: 0, gid: 0 });
    if (!(await fs.lstat(FIRST_BOOT_WANTS))) await fs.symlink(FIRST_BOOT_WANTS, FIRST_BOOT_UNIT);
    changes.push(`installed and enabled the systemd oneshot ${FIRST_BOOT_UNIT}`);
  } else if (init === "upstart") {
    await fs.writeFile(FIRST_BOOT_UPSTART, FIRST_BOOT_UPSTART_JOB, { mode: 0o644, uid: 0, gid: 0 });
    changes.push(`installed the upstart job ${FIRST_BOOT_UPSTART}`);
  } else {
    const existing = await fs.readText("/etc/rc.local");
    await fs.writeFile(
      "/etc/rc.local",
      addToRcLocal(existing),
      existing === undefined ? { mode: 0o755, uid: 0, gid: 0 } : {},
    );
    if (existing !== undefined)
      await fs.chmod("/etc/rc.local", ((await fs.stat("/etc/rc.local"))?.mode ?? 0o644) | 0o755);
    changes.push("added the first-boot script to /etc/rc.local");
  }
  return changes;
}
