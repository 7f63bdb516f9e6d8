/** @module first-boot-script — the first-boot shell script: steps kept as done, network steps only on a real network, self-removal when all are done. */
import type { InitSystem } from "./services.ts";

/** One step of the first-boot script, queued by a task. */
export interface FirstBootAction {
  /** The task that queued it (`first-boot-update-software`); the step is named without `first-boot-`. */
  name: string;
  description: string;
  /** POSIX sh; runs in its own subshell with its output in the log file. A non-zero status means "retry at next boot". */
  script: string;
  /** The step needs the network (package downloads): it waits for a default route and name resolution. */
  network?: boolean;
}

export const FIRST_BOOT_SCRIPT = "/usr/local/sbin/icaas-first-boot";
export const FIRST_BOOT_UNIT = "/etc/systemd/system/icaas-first-boot.service";
export const FIRST_BOOT_WANTS = "/etc/systemd/system/multi-user.target.wants/icaas-first-boot.service";
export const FIRST_BOOT_UPSTART = "/etc/init/icaas-first-boot.conf";
export const FIRST_BOOT_LOG = "/var/log/icaas-first-boot.log";
/** Holds `<step>.ok` per finished step, and `done` once every step has finished. */
export const FIRST_BOOT_STATE = "/var/lib/icaas-firstboot";
/** The prefix of every line the script writes to the journal / console. */
export const FIRST_BOOT_PREFIX = "icaas-firstboot:";
/** How long a boot waits for the network before network steps are left for the next boot. */
export const NETWORK_WAIT_SECONDS = 120;
export const RC_LOCAL_LINE = `${FIRST_BOOT_SCRIPT} || true`;

/** The step name of an action: its task name without `first-boot-`. */
export function stepName(action: FirstBootAction): string {
  return action.name.replace(/^first-boot-/, "");
}

/**
 * How the script finds a usable network, in POSIX sh: a default route on an interface other than
 * `lo` (IPv4 or IPv6; DHCP clients add it after the lease's address), then, when the package
 * sources name a mirror and `getent` exists, that name resolving. `ifupdown` with `allow-hotplug`
 * reaches network-online.target before the lease, so systemd ordering alone is not enough.
 */
const NETWORK_FUNCTIONS = String.raw`has_default_route() {
  while read -r iface dest rest; do
    if [ "$dest" = 00000000 ] && [ "$iface" != lo ]; then return 0; fi
  done <"$R/proc/net/route"
  if [ -r "$R/proc/net/ipv6_route" ]; then
    while read -r dest plen src splen hop metric ref use flags iface; do
      if [ "$dest" = 00000000000000000000000000000000 ] && [ "$plen" = 00 ] && [ "$iface" != lo ]; then return 0; fi
    done <"$R/proc/net/ipv6_route"
  fi
  return 1
}

mirror_host() {
  for f in "$R"/etc/apt/sources.list "$R"/etc/apt/sources.list.d/* "$R"/etc/yum.repos.d/*.repo "$R"/etc/zypp/repos.d/*.repo; do
    [ -f "$f" ] || continue
    h=$(sed -n 's,^[^#]*[a-z]*://\([^/:[:space:]]*\).*,\1,p' "$f" | head -n 1)
    if [ -n "$h" ]; then echo "$h"; return 0; fi
  done
  return 1
}

network_ready() {
  has_default_route || return 1
  host=$(mirror_host) || return 0
  command -v getent >/dev/null 2>&1 || return 0
  getent hosts "$host" >/dev/null 2>&1
}

# Waits up to NET_WAIT seconds, once per boot: later network steps do not wait again.
wait_for_network() {
  [ -n "$NET_STATE" ] && [ "$NET_STATE" = up ] && return 0
  [ -n "$NET_STATE" ] && return 1
  waited=0
  while :; do
    if network_ready; then
      NET_STATE=up
      say "network: up after $waited s"
      return 0
    fi
    if [ "$waited" -ge "$NET_WAIT" ]; then
      NET_STATE=down
      say "network: no default route and name resolution after $waited s"
      return 1
    fi
    sleep 2
    waited=$((waited + 2))
  done
}`;

const RUN_STEP = `# run_step NAME NEEDS_NETWORK FUNCTION: runs FUNCTION once ever; a failure or a missing network leaves it for the next boot.
run_step() {
  if [ -e "$STATE/$1.ok" ]; then
    say "step $1: already done"
    return 0
  fi
  if [ "$2" = yes ] && ! wait_for_network; then
    say "step $1: deferred (no network); retried at next boot"
    PENDING="$PENDING $1"
    return 0
  fi
  say "step $1: started"
  if ( "$3" ) >>"$LOG" 2>&1; then
    : >"$STATE/$1.ok"
    say "step $1: ok"
  else
    say "step $1: failed (status $?); retried at next boot"
    PENDING="$PENDING $1"
  fi
}`;

function removeHook(init: InitSystem): string {
  if (init === "systemd") return `rm -f "$R${FIRST_BOOT_WANTS}" "$R${FIRST_BOOT_UNIT}"`;
  if (init === "upstart") return `rm -f "$R${FIRST_BOOT_UPSTART}"`;
  return `sed -i '\\#${FIRST_BOOT_SCRIPT}#d' "$R/etc/rc.local"`;
}

/**
 * The first-boot script for these actions and this init system (exported for tests and the README).
 * Each step runs until it succeeds once (`<state>/<step>.ok`); network steps run only once a network
 * is up (bounded wait); when every step is done the script writes `<state>/done` and removes itself
 * and its hook. It always exits 0: a step left for the next boot is logged, not a failed unit.
 * `ICAAS_FIRSTBOOT_ROOT` (a directory standing for `/`) and `ICAAS_FIRSTBOOT_NET_WAIT` exist so the
 * real script can run in tests.
 */
export function renderFirstBootScript(actions: FirstBootAction[], init: InitSystem): string {
  const out = [
    "#!/bin/sh",
    "# Installed by ICaaS image preparation. It runs at boot until each of its steps has succeeded once,",
    `# then removes itself. Status lines ("${FIRST_BOOT_PREFIX} step NAME: ok") go to the journal/console`,
    `# and ${FIRST_BOOT_LOG}; the steps' own output to that log only. Done steps: ${FIRST_BOOT_STATE}.`,
    'R="$ICAAS_FIRSTBOOT_ROOT"',
    'NET_WAIT="$ICAAS_FIRSTBOOT_NET_WAIT"',
    `[ -n "$NET_WAIT" ] || NET_WAIT=${NETWORK_WAIT_SECONDS}`,
    `STATE="$R${FIRST_BOOT_STATE}"`,
    `LOG="$R${FIRST_BOOT_LOG}"`,
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "DEBIAN_FRONTEND=noninteractive",
    "export PATH DEBIAN_FRONTEND",
    "PENDING=",
    "NET_STATE=",
    'mkdir -p "$STATE" "$(dirname "$LOG")"',
    `say() { echo "${FIRST_BOOT_PREFIX} $*"; echo "$(date '+%Y-%m-%d %H:%M:%S') ${FIRST_BOOT_PREFIX} $*" >>"$LOG"; }`,
    "",
    NETWORK_FUNCTIONS,
    "",
    RUN_STEP,
  ];
  actions.forEach((a, i) => {
    out.push("", `# ${stepName(a)}: ${a.description}`, `step_${i + 1}() {`, a.script, "}");
  });
  out.push("", 'say "start"');
  actions.forEach((a, i) => {
    out.push(`run_step ${stepName(a)} ${a.network ? "yes" : "no"} step_${i + 1}`);
  });
  out.push(
    "",
    'if [ -n "$PENDING" ]; then',
    '  say "pending:$PENDING; runs again at next boot"',
    "  exit 0",
    "fi",
    "# Every step is done: this must not run again.",
    removeHook(init),
    `rm -f "$R${FIRST_BOOT_SCRIPT}"`,
    ': >"$STATE/done"',
    'say "done"',
    "exit 0",
    "",
  );
  return out.join("\n");
}
