/**
 * @module tests/vm/guest-checks — what a user who logs in to a freshly deployed image checks, read over SSH:
 * first boot, host keys, machine-id, the DHCP lease, failed units. Shared by the published-image checks and
 * `scripts/boot-test-image.ts`.
 */
import * as imageprep from "@icaas/imageprep";
import type { Guest } from "./guest-ssh.ts";

/** Where the image preparation's first-boot script logs, and the words it logs (imageprep's first-boot-script.ts). */
export const FIRST_BOOT = {
  script: imageprep.FIRST_BOOT_SCRIPT,
  unit: imageprep.FIRST_BOOT_UNIT,
  wants: imageprep.FIRST_BOOT_WANTS,
  log: imageprep.FIRST_BOOT_LOG,
  /** Written once every step has succeeded. */
  doneFile: `${imageprep.FIRST_BOOT_STATE}/done`,
  /** Every line of the script's own starts with this. */
  prefix: imageprep.FIRST_BOOT_PREFIX,
  start: new RegExp(`${imageprep.FIRST_BOOT_PREFIX} start$`),
  done: new RegExp(`${imageprep.FIRST_BOOT_PREFIX} done$`),
  failed: new RegExp(`${imageprep.FIRST_BOOT_PREFIX} .*(failed|deferred)`),
} as const;

/** The status line of a first-boot step that succeeded, e.g. `icaas-firstboot: step update-software: ok`. */
export function stepOk(step: string): string {
  return `${imageprep.FIRST_BOOT_PREFIX} step ${step}: ok`;
}

/** Journal lines that mean a unit failed, or sshd could not start (defect 2 of issue 9). */
export const JOURNAL_FAILURES =
  /Failed to start|failed with result|Start request repeated too quickly|no hostkeys available|Dependency failed/;

export interface GuestFacts {
  bootId: string;
  machineId: string;
  hostKeyFingerprints: string[];
  /** The guest's global IPv4 addresses. */
  addresses: string[];
  /** Lease files that hold an address (dhclient or NetworkManager). */
  leases: string[];
  failedUnits: string[];
  /** Lines of the whole journal (every boot kept) that say something failed. */
  journalFailures: string[];
  firstBootLog: string;
  /** First-boot files that should have gone. */
  firstBootLeftovers: string[];
  sshdActive: string;
}

export async function guestFacts(g: Guest): Promise<GuestFacts> {
  const script = [
    "echo '## boot'; cat /proc/sys/kernel/random/boot_id",
    "echo '## machine-id'; cat /etc/machine-id",
    "echo '## hostkeys'; for f in /etc/ssh/ssh_host_*_key.pub; do ssh-keygen -l -E sha256 -f \"$f\"; done",
    "echo '## addresses'; ip -4 -o addr show scope global | awk '{print $4}'",
    'echo \'## leases\'; for f in /var/lib/dhcp/*.leases /var/lib/NetworkManager/*.lease; do [ -s "$f" ] && grep -qE \'fixed-address|ADDRESS=\' "$f" && echo "$f"; done',
    "echo '## failed'; systemctl --failed --no-legend --plain | awk '{print $1}'",
    `echo '## journal'; journalctl --no-pager -o short-monotonic | grep -E '${JOURNAL_FAILURES.source}' || true`,
    `echo '## firstboot'; cat ${FIRST_BOOT.log} 2>/dev/null || true`,
    `echo '## leftovers'; for f in ${FIRST_BOOT.script} ${FIRST_BOOT.unit} ${FIRST_BOOT.wants}; do [ -e "$f" ] && echo "$f"; done; true`,
    "echo '## sshd'; systemctl is-active ssh || true",
  ].join("\n");
  const out = await g.must(script);
  const sections = new Map<string, string[]>();
  let current = "";
  for (const line of out.split("\n")) {
    const head = /^## (\S+)$/.exec(line);
    if (head) {
      current = head[1] as string;
      sections.set(current, []);
    } else if (line.trim() !== "") sections.get(current)?.push(line);
  }
  const get = (name: string) => sections.get(name) ?? [];
  return {
    bootId: get("boot")[0] ?? "",
    machineId: get("machine-id")[0] ?? "",
    hostKeyFingerprints: get("hostkeys").map((l) => l.split(/\s+/)[1] ?? ""),
    addresses: get("addresses"),
    leases: get("leases"),
    failedUnits: get("failed"),
    journalFailures: get("journal"),
    firstBootLog: get("firstboot").join("\n"),
    firstBootLeftovers: get("leftovers"),
    sshdActive: get("sshd")[0] ?? "",
  };
}

/** True once the first-boot script has logged its end (it removes itself just before). */
export async function firstBootDone(g: Guest): Promise<boolean> {
  const r = await g.run(`test -e ${FIRST_BOOT.doneFile}`, 30_000);
  return r.code === 0;
}

/** Problems with a deployed image, as sentences (empty: all good). `source` holds what must differ. */
export function problems(
  facts: GuestFacts,
  source: { machineId?: string; hostKeyFingerprints?: string[] },
): string[] {
  const out: string[] = [];
  const starts = facts.firstBootLog.split("\n").filter((l) => FIRST_BOOT.start.test(l)).length;
  if (starts !== 1) out.push(`first boot started ${starts} times`);
  if (!facts.firstBootLog.split("\n").some((l) => FIRST_BOOT.done.test(l)))
    out.push("first boot did not finish");
  for (const l of facts.firstBootLog.split("\n")) if (FIRST_BOOT.failed.test(l)) out.push(`first boot: ${l}`);
  for (const f of facts.firstBootLeftovers) out.push(`first boot left ${f} behind`);
  if (facts.hostKeyFingerprints.length === 0) out.push("no SSH host keys");
  for (const fp of facts.hostKeyFingerprints)
    if (source.hostKeyFingerprints?.includes(fp)) out.push(`host key ${fp} is the source's`);
  if (!/^[0-9a-f]{32}$/.test(facts.machineId)) out.push(`machine-id '${facts.machineId}' is not set`);
  else if (facts.machineId === source.machineId) out.push("machine-id is the source's");
  if (facts.addresses.length === 0) out.push("no IPv4 address");
  if (facts.leases.length === 0) out.push("no DHCP lease");
  for (const u of facts.failedUnits) out.push(`unit failed: ${u}`);
  for (const l of facts.journalFailures) out.push(`journal: ${l}`);
  if (facts.sshdActive !== "active") out.push(`ssh.service is ${facts.sshdActive}`);
  return out;
}
