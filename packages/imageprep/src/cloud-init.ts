/** @module cloud-init — whether a guest runs cloud-init, and which users it will create. */
import { parse } from "yaml";
import type { GuestFs } from "./guest-fs/contract.ts";
import { type InitSystem, isServiceEnabled } from "./services.ts";

export interface CloudInitInfo {
  enabled: boolean;
  /** `system_info.default_user.name`. */
  defaultUser?: string;
  /** The users cloud-init creates at first boot (the default user resolved). */
  users: string[];
  /** Configuration files, in the order cloud-init merges them. */
  files: string[];
}

const GENERATOR_DIRS = ["/run", "/etc", "/usr/local/lib", "/usr/lib", "/lib"];

/** /etc/cloud/cloud.cfg then /etc/cloud/cloud.cfg.d/*.cfg in name order. */
export async function cloudInitConfigFiles(fs: GuestFs): Promise<string[]> {
  const files: string[] = [];
  if (await fs.isFile("/etc/cloud/cloud.cfg")) files.push("/etc/cloud/cloud.cfg");
  const extra = (await fs.list("/etc/cloud/cloud.cfg.d"))
    .filter((e) => e.type === "file" && e.name.endsWith(".cfg"))
    .map((e) => `/etc/cloud/cloud.cfg.d/${e.name}`)
    .sort();
  return [...files, ...extra];
}

/** Parses one cloud-init file; a file that is not a YAML mapping counts as empty. */
export function parseCloudConfig(text: string): Record<string, unknown> {
  try {
    const doc = parse(text) as unknown;
    return doc && typeof doc === "object" && !Array.isArray(doc) ? (doc as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The top-level merge snf-image-creator does (a later file's key replaces an earlier one's). */
export async function cloudInitConfig(fs: GuestFs, files?: string[]): Promise<Record<string, unknown>> {
  const list = files ?? (await cloudInitConfigFiles(fs));
  const texts = await fs.readTexts(list);
  const cfg: Record<string, unknown> = {};
  for (const t of texts) if (t !== undefined) Object.assign(cfg, parseCloudConfig(t));
  return cfg;
}

/** `system_info.default_user.name` of a merged configuration. */
export function defaultUserOf(cfg: Record<string, unknown>): string | undefined {
  const info = cfg.system_info as Record<string, unknown> | undefined;
  const user = info?.default_user as Record<string, unknown> | undefined;
  return typeof user?.name === "string" ? user.name : undefined;
}

/** The users cloud-init creates: `default` resolved, system/inactive/snap users left out. */
export function cloudInitUsers(cfg: Record<string, unknown>): string[] {
  const defaultUser = defaultUserOf(cfg);
  // cloud-init's own default when no `users` key is given is ["default"].
  const list = Array.isArray(cfg.users)
    ? (cfg.users as unknown[])
    : cfg.users === undefined
      ? ["default"]
      : [];
  const users: string[] = [];
  for (const u of list) {
    if (typeof u === "string") {
      const name = u === "default" ? defaultUser : u;
      if (name && !users.includes(name)) users.push(name);
    } else if (u && typeof u === "object") {
      const o = u as Record<string, unknown>;
      if (o.snapuser || o.inactive === true || o.system === true) continue;
      if (typeof o.name === "string" && !users.includes(o.name)) users.push(o.name);
    }
  }
  return users;
}

/**
 * Whether cloud-init runs at boot — its service is enabled, or systemd's cloud-init generator is
 * installed and `/etc/cloud/cloud-init.disabled` is absent — and whom it creates.
 */
export async function inspectCloudInit(fs: GuestFs, init: InitSystem): Promise<CloudInitInfo> {
  let enabled = await isServiceEnabled(fs, "cloud-init", init);
  if (!enabled && init === "systemd") {
    for (const d of GENERATOR_DIRS) {
      if (await fs.isFile(`${d}/systemd/system-generators/cloud-init-generator`)) {
        enabled = !(await fs.isFile("/etc/cloud/cloud-init.disabled"));
        break;
      }
    }
  }
  const files = await cloudInitConfigFiles(fs);
  if (!enabled) return { enabled, users: [], files };
  const cfg = await cloudInitConfig(fs, files);
  const info: CloudInitInfo = { enabled, users: cloudInitUsers(cfg), files };
  const du = defaultUserOf(cfg);
  if (du) info.defaultUser = du;
  return info;
}
