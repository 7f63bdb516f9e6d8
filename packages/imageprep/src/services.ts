/** @module services — which init system a guest boots with and whether a service starts at boot. */
import type { GuestFs } from "./guest-fs/contract.ts";

export type InitSystem = "systemd" | "upstart" | "sysvinit";

/** The directories whose links make systemd start a unit at boot. */
export const SYSTEMD_WANTS_DIRS = [
  "/etc/systemd/system/multi-user.target.wants",
  "/etc/systemd/system/graphical.target.wants",
  "/etc/systemd/system/default.target.wants",
];

/** Tells the init system from /sbin/init (a link to systemd, upstart's initctl beside it, or neither). */
export async function detectInit(fs: GuestFs): Promise<InitSystem> {
  const init = await fs.realpath("/sbin/init");
  if (init?.includes("systemd")) return "systemd";
  if (init && (await fs.isFile("/sbin/initctl")) && (await fs.isDir("/etc/init"))) return "upstart";
  if (!init) {
    for (const p of ["/lib/systemd/systemd", "/usr/lib/systemd/systemd"])
      if (await fs.isFile(p)) return "systemd";
  }
  return "sysvinit";
}

function commandPattern(service: string): RegExp {
  const s = service.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`[/=\\s'"]${s}['"]?(\\s|$)`);
}

function uncommented(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.split("#", 1)[0]?.trim() ?? "")
    .filter((l) => l !== "");
}

/**
 * Whether `service` (the program name: `sshd`, `NetworkManager`, `cloud-init`) starts at boot, the way
 * snf-image-creator decides it, but only in the place the guest's own init system looks: a systemd
 * `*.target.wants` unit whose `ExecStart=` runs `…bin/<service>`, an upstart `/etc/init/*.conf` job, or
 * an `S` link in `/etc/rc[2-5].d`.
 *
 * @example
 * await isServiceEnabled(fs, "sshd", "systemd") // true when multi-user.target.wants/ssh.service runs /usr/sbin/sshd
 */
export async function isServiceEnabled(fs: GuestFs, service: string, init: InitSystem): Promise<boolean> {
  if (init === "systemd") {
    const exec = new RegExp(
      `^\\s*ExecStart=.*bin/${service.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(\\s|$)`,
      "m",
    );
    const paths: string[] = [];
    for (const dir of SYSTEMD_WANTS_DIRS) {
      for (const e of await fs.list(dir))
        if (e.type === "symlink" || e.type === "file") paths.push(`${dir}/${e.name}`);
    }
    const texts = await fs.readTexts(paths);
    return texts.some((t) => t !== undefined && exec.test(t));
  }
  const pattern = commandPattern(service);
  if (init === "upstart") {
    const jobs = (await fs.list("/etc/init")).filter((e) => e.type === "file" && e.name.endsWith(".conf"));
    const texts = await fs.readTexts(jobs.map((e) => `/etc/init/${e.name}`));
    if (texts.some((t) => t !== undefined && uncommented(t).some((l) => pattern.test(` ${l}`)))) return true;
  }
  const scripts: string[] = [];
  for (const rc of ["/etc/rc2.d", "/etc/rc3.d", "/etc/rc4.d", "/etc/rc5.d", "/etc/rc.d/rc3.d"]) {
    for (const e of await fs.list(rc)) if (e.name.startsWith("S")) scripts.push(`${rc}/${e.name}`);
  }
  const texts = await fs.readTexts(scripts);
  return texts.some((t) => t !== undefined && uncommented(t).some((l) => pattern.test(` ${l}`)));
}

/** What sshd would use: the first `Port` and `PermitRootLogin` it reads, following `Include`. */
export interface SshdConfig {
  port: number;
  permitRootLogin: string;
}

async function expandInclude(fs: GuestFs, pattern: string): Promise<string[]> {
  const abs = pattern.startsWith("/") ? pattern : `/etc/ssh/${pattern}`;
  const slash = abs.lastIndexOf("/");
  const dir = abs.slice(0, slash) || "/";
  const glob = abs.slice(slash + 1);
  if (!/[*?[]/.test(glob)) return [abs];
  const re = new RegExp(
    `^${glob
      .replace(/[.+^${}()|\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  const names = (await fs.list(dir)).map((e) => e.name).filter((n) => re.test(n));
  return names.sort().map((n) => `${dir}/${n}`);
}

/**
 * Reads /etc/ssh/sshd_config the way sshd does: the first value of a keyword wins, `Include`d files
 * are read where the directive stands, and nothing inside a `Match` block counts.
 */
export async function readSshdConfig(fs: GuestFs): Promise<SshdConfig> {
  const found: Record<string, string> = {};
  const seen = new Set<string>();
  const read = async (path: string, depth: number): Promise<boolean> => {
    if (depth > 8 || seen.has(path)) return false;
    seen.add(path);
    const text = await fs.readText(path);
    if (text === undefined) return false;
    for (const line of uncommented(text)) {
      const [key = "", ...rest] = line.split(/\s+|=/).filter((x) => x !== "");
      const k = key.toLowerCase();
      if (k === "match") return true;
      if (k === "include") {
        for (const pat of rest)
          for (const f of await expandInclude(fs, pat)) if (await read(f, depth + 1)) return true;
        continue;
      }
      if (!(k in found) && rest[0] !== undefined) found[k] = rest[0];
    }
    return false;
  };
  await read("/etc/ssh/sshd_config", 0);
  const port = Number(found.port);
  return {
    port: Number.isInteger(port) && port > 0 ? port : 22,
    permitRootLogin: found.permitrootlogin ?? "prohibit-password",
  };
}
