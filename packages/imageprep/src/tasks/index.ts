/** @module tasks — every preparation task, in the order they run (snf-image-creator's Linux syspreps, then ICaaS's own). */
import { ImagePrepError } from "../errors.ts";
import { bitnami } from "./bitnami.ts";
import { changeBootmenuTimeout } from "./change-bootmenu-timeout.ts";
import { cleanupCache } from "./cleanup-cache.ts";
import { cleanupLog } from "./cleanup-log.ts";
import { cleanupMail } from "./cleanup-mail.ts";
import { cleanupPasswords } from "./cleanup-passwords.ts";
import { cleanupTmp } from "./cleanup-tmp.ts";
import { cleanupUserdata } from "./cleanup-userdata.ts";
import { clearLocalMachineIdConfigurationFile } from "./clear-local-machine-id-configuration-file.ts";
import { disableIpv6PrivacyExtensions } from "./disable-ipv6-privacy-extensions.ts";
import { disablePredictableNetworkInterfaceNaming } from "./disable-predictable-network-interface-naming.ts";
import { disableSerialConsole } from "./disable-serial-console.ts";
import { enableRootInCloudInit } from "./enable-root-in-cloud-init.ts";
import { firstBootEnableRemoteAccess } from "./first-boot-enable-remote-access.ts";
import { firstBootGrowRootFilesystem } from "./first-boot-grow-root-filesystem.ts";
import { firstBootInstallNetworkManagement } from "./first-boot-install-network-management.ts";
import { firstBootRegenerateSshHostKeys } from "./first-boot-regenerate-ssh-host-keys.ts";
import { firstBootUpdateSoftware } from "./first-boot-update-software.ts";
import { fixAcpid } from "./fix-acpid.ts";
import { removeNetworkmanagerSystemConnections } from "./remove-networkmanager-system-connections.ts";
import { removePersistentNetRules } from "./remove-persistent-net-rules.ts";
import { removeSshHostKeys } from "./remove-ssh-host-keys.ts";
import { removeSwapEntry } from "./remove-swap-entry.ts";
import { removeUserAccounts } from "./remove-user-accounts.ts";
import { renameDefaultCloudInitUser } from "./rename-default-cloud-init-user.ts";
import { shrink } from "./shrink.ts";
import type { ParamValue, Task, TaskParam } from "./types.ts";
import { usePersistentBlockDeviceNames } from "./use-persistent-block-device-names.ts";

/**
 * The tasks in run order. `bitnami` comes first, as icaas-agent's host-run script ran before the
 * syspreps; then snf-image-creator's Linux tasks in its order; then ICaaS's own; `shrink` last.
 */
export const TASKS: readonly Task[] = [
  bitnami,
  cleanupCache,
  cleanupTmp,
  cleanupLog,
  cleanupMail,
  cleanupUserdata,
  cleanupPasswords,
  removeUserAccounts,
  renameDefaultCloudInitUser,
  enableRootInCloudInit,
  fixAcpid,
  removePersistentNetRules,
  removeSwapEntry,
  changeBootmenuTimeout,
  usePersistentBlockDeviceNames,
  disableIpv6PrivacyExtensions,
  disablePredictableNetworkInterfaceNaming,
  disableSerialConsole,
  clearLocalMachineIdConfigurationFile,
  removeNetworkmanagerSystemConnections,
  removeSshHostKeys,
  firstBootRegenerateSshHostKeys,
  firstBootGrowRootFilesystem,
  firstBootUpdateSoftware,
  firstBootEnableRemoteAccess,
  firstBootInstallNetworkManagement,
  shrink,
];

/** A task as listings show it. */
export interface TaskInfo {
  name: string;
  description: string;
  enabledByDefault: boolean;
  stage: "prepare" | "shrink";
  params: TaskParam[];
}

/**
 * The tasks in run order, with their defaults and parameters.
 *
 * @example
 * listTasks().filter((t) => !t.enabledByDefault).map((t) => t.name) // ["cleanup-mail", "remove-user-accounts", …]
 */
export function listTasks(): TaskInfo[] {
  return TASKS.map((t) => ({
    name: t.name,
    description: t.description,
    enabledByDefault: t.enabledByDefault,
    stage: t.stage,
    params: t.params ?? [],
  }));
}

/**
 * The names of the tasks that run: the defaults, plus `enable`, minus `disable` (disable wins).
 * An unknown name is an `invalid_option` error, so a typo cannot silently keep a secret in the image.
 */
export function selectTasks(enable: string[] = [], disable: string[] = []): Set<string> {
  const known = new Set(TASKS.map((t) => t.name));
  for (const n of [...enable, ...disable]) {
    if (!known.has(n)) {
      throw new ImagePrepError("invalid_option", `unknown task "${n}" (known: ${[...known].join(", ")})`);
    }
  }
  const on = new Set(TASKS.filter((t) => t.enabledByDefault).map((t) => t.name));
  for (const n of enable) on.add(n);
  for (const n of disable) on.delete(n);
  return on;
}

/** Splits a list value on commas; `\,` keeps a comma (snf-image-creator's `--sysprep-param` syntax). */
function splitList(value: string): string[] {
  const out: string[] = [];
  let current = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "\\" && value[i + 1] === ",") {
      current += ",";
      i += 1;
    } else if (c === ",") {
      out.push(current);
      current = "";
    } else current += c;
  }
  out.push(current);
  return out.filter((x) => x !== "");
}

/** Every task parameter with its default, overridden and checked by `given`. */
export function resolveParams(given: Record<string, ParamValue> = {}): Record<string, ParamValue> {
  const defs = new Map<string, TaskParam>();
  for (const t of TASKS) for (const p of t.params ?? []) defs.set(p.name, p);
  const out: Record<string, ParamValue> = {};
  for (const [name, def] of defs) out[name] = def.default;
  for (const [name, raw] of Object.entries(given)) {
    const def = defs.get(name);
    if (!def)
      throw new ImagePrepError(
        "invalid_option",
        `unknown task parameter "${name}" (known: ${[...defs.keys()].join(", ")})`,
      );
    if (def.type === "posint") {
      const n = Number(raw);
      if (!Number.isInteger(n) || n <= 0)
        throw new ImagePrepError("invalid_option", `${name} must be a positive integer, not "${raw}"`);
      out[name] = n;
    } else if (def.type === "list") {
      const list = Array.isArray(raw) ? raw.map(String) : splitList(String(raw));
      if (list.length === 0 || list.some((x) => x === ""))
        throw new ImagePrepError("invalid_option", `${name} needs at least one non-empty value`);
      out[name] = list;
    } else {
      out[name] = String(raw);
    }
  }
  return out;
}
