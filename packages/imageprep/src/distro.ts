/** @module distro — names the Linux distribution and its version from os-release, lsb-release, redhat-release, debian_version. */

/** The package-manager family a distribution belongs to. */
export type DistroFamily = "debian" | "rhel" | "suse" | "arch" | "other";

export interface DistroInfo {
  /** libguestfs-style short name: `debian`, `ubuntu`, `centos`, `rhel`, `fedora`, …, or `unknown`. */
  distro: string;
  family: DistroFamily;
  /** The version as the guest states it (`12.11`, `14.04`, `7.9`); empty when unknown. */
  version: string;
  major: number;
  minor: number;
  /** The product name (`Debian GNU/Linux 12 (bookworm)`). */
  description: string;
}

/** The release files {@link detectDistro} reads, by guest path. */
export const RELEASE_FILES = [
  "/etc/os-release",
  "/usr/lib/os-release",
  "/etc/lsb-release",
  "/etc/redhat-release",
  "/etc/centos-release",
  "/etc/fedora-release",
  "/etc/oracle-release",
  "/etc/SuSE-release",
  "/etc/arch-release",
  "/etc/debian_version",
] as const;

const OS_RELEASE_IDS: Record<string, string> = {
  debian: "debian",
  ubuntu: "ubuntu",
  linuxmint: "linuxmint",
  rhel: "rhel",
  centos: "centos",
  fedora: "fedora",
  ol: "oraclelinux",
  almalinux: "almalinux",
  rocky: "rocky",
  scientific: "scientificlinux",
  amzn: "amazonlinux",
  opensuse: "opensuse",
  "opensuse-leap": "opensuse",
  "opensuse-tumbleweed": "opensuse",
  sles: "sles",
  sled: "sles",
  arch: "archlinux",
  gentoo: "gentoo",
  slackware: "slackware",
  mageia: "mageia",
  alpine: "alpine",
  cirros: "cirros",
};

const FAMILIES: Record<string, DistroFamily> = {
  debian: "debian",
  ubuntu: "debian",
  linuxmint: "debian",
  rhel: "rhel",
  centos: "rhel",
  fedora: "rhel",
  oraclelinux: "rhel",
  almalinux: "rhel",
  rocky: "rhel",
  scientificlinux: "rhel",
  amazonlinux: "rhel",
  opensuse: "suse",
  sles: "suse",
  archlinux: "arch",
};

/** Parses a shell-style `KEY=value` file (os-release, lsb-release): quotes and backslash escapes. */
export function parseKeyValue(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let value = (m[2] as string).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
      value = value.slice(1, -1).replace(/\\(["\\`$])/g, "$1");
    } else if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) {
      value = value.slice(1, -1);
    }
    out[m[1] as string] = value;
  }
  return out;
}

function versionParts(version: string): { major: number; minor: number } {
  const m = /^(\d+)(?:\.(\d+))?/.exec(version);
  return { major: m ? Number(m[1]) : 0, minor: m?.[2] ? Number(m[2]) : 0 };
}

function familyOf(distro: string, idLike = ""): DistroFamily {
  const known = FAMILIES[distro];
  if (known) return known;
  const like = idLike.split(/\s+/);
  if (like.includes("debian") || like.includes("ubuntu")) return "debian";
  if (like.some((l) => ["rhel", "fedora", "centos"].includes(l))) return "rhel";
  if (like.some((l) => l.startsWith("suse") || l.startsWith("opensuse"))) return "suse";
  if (like.includes("arch")) return "arch";
  return "other";
}

function fromRedhatRelease(line: string): { distro: string; version: string } | undefined {
  const m = /release\s+(\d+(?:\.\d+)*)/.exec(line);
  const version = m?.[1] ?? "";
  if (/^CentOS/i.test(line)) return { distro: "centos", version };
  if (/^Fedora/i.test(line)) return { distro: "fedora", version };
  if (/^Red Hat Enterprise Linux/i.test(line)) return { distro: "rhel", version };
  if (/^Oracle Linux/i.test(line)) return { distro: "oraclelinux", version };
  if (/^Scientific Linux/i.test(line)) return { distro: "scientificlinux", version };
  if (/^(Rocky)/i.test(line)) return { distro: "rocky", version };
  if (/^(AlmaLinux)/i.test(line)) return { distro: "almalinux", version };
  return undefined;
}

/**
 * Names the distribution from the contents of the release files (undefined = missing), in the order
 * libguestfs trusts them: os-release, then lsb-release, redhat-release, SuSE-release, debian_version.
 *
 * @example
 * detectDistro({ "/etc/os-release": 'ID=debian\nVERSION_ID="12"\n', "/etc/debian_version": "12.11\n" })
 * // → { distro: "debian", family: "debian", version: "12.11", major: 12, minor: 11, … }
 */
export function detectDistro(files: Partial<Record<string, string | undefined>>): DistroInfo {
  const debianVersion = files["/etc/debian_version"]?.trim();
  const osReleaseText = files["/etc/os-release"] ?? files["/usr/lib/os-release"];
  if (osReleaseText) {
    const os = parseKeyValue(osReleaseText);
    const id = (os.ID ?? "").toLowerCase();
    if (id) {
      const distro = OS_RELEASE_IDS[id] ?? id;
      let version = os.VERSION_ID ?? "";
      // Debian's os-release says only "12"; debian_version has the point release libguestfs reports.
      if (distro === "debian" && debianVersion && /^\d+(\.\d+)?$/.test(debianVersion)) {
        if (!version || versionParts(debianVersion).major === versionParts(version).major)
          version = debianVersion;
      }
      const family = familyOf(distro, os.ID_LIKE);
      // CentOS/RHEL 7 os-release says only "7"; the release file has the minor version too.
      if (family === "rhel" && !version.includes(".")) {
        for (const f of ["/etc/centos-release", "/etc/oracle-release", "/etc/redhat-release"]) {
          const rh = fromRedhatRelease(files[f]?.split("\n")[0]?.trim() ?? "");
          if (rh && versionParts(rh.version).major === versionParts(version).major) {
            version = rh.version;
            break;
          }
        }
      }
      const description = os.PRETTY_NAME || [os.NAME, os.VERSION].filter(Boolean).join(" ") || distro;
      return { distro, family, version, ...versionParts(version), description };
    }
  }
  const lsbText = files["/etc/lsb-release"];
  if (lsbText) {
    const lsb = parseKeyValue(lsbText);
    const id = (lsb.DISTRIB_ID ?? "").toLowerCase();
    if (id) {
      const distro = OS_RELEASE_IDS[id] ?? id;
      const version = lsb.DISTRIB_RELEASE ?? "";
      const description = lsb.DISTRIB_DESCRIPTION || `${lsb.DISTRIB_ID} ${version}`.trim();
      return { distro, family: familyOf(distro), version, ...versionParts(version), description };
    }
  }
  for (const f of [
    "/etc/oracle-release",
    "/etc/centos-release",
    "/etc/fedora-release",
    "/etc/redhat-release",
  ]) {
    const line = files[f]?.split("\n")[0]?.trim();
    if (!line) continue;
    const rh = fromRedhatRelease(line);
    if (rh) return { ...rh, family: "rhel", ...versionParts(rh.version), description: line };
  }
  const suse = files["/etc/SuSE-release"];
  if (suse) {
    const first = suse.split("\n")[0]?.trim() ?? "";
    const v = /VERSION\s*=\s*(\S+)/.exec(suse)?.[1] ?? "";
    const p = /PATCHLEVEL\s*=\s*(\d+)/.exec(suse)?.[1];
    const version = p ? `${v}.${p}` : v;
    const distro = /enterprise/i.test(first) ? "sles" : "opensuse";
    return { distro, family: "suse", version, ...versionParts(version), description: first };
  }
  if (files["/etc/arch-release"] !== undefined) {
    return {
      distro: "archlinux",
      family: "arch",
      version: "",
      major: 0,
      minor: 0,
      description: "Arch Linux",
    };
  }
  if (debianVersion) {
    const numeric = /^\d+(\.\d+)?$/.test(debianVersion);
    const version = numeric ? debianVersion : "";
    return {
      distro: "debian",
      family: "debian",
      version,
      ...versionParts(version),
      description: `Debian ${debianVersion}`,
    };
  }
  return { distro: "unknown", family: "other", version: "", major: 0, minor: 0, description: "Linux" };
}

/** Compares kernel-style versions (`6.1.0-13-amd64` > `6.1.0-9-amd64`), numbers as numbers. */
export function compareVersions(a: string, b: string): number {
  const ta = a.match(/\d+|[^\d]+/g) ?? [];
  const tb = b.match(/\d+|[^\d]+/g) ?? [];
  for (let i = 0; i < Math.max(ta.length, tb.length); i++) {
    const x = ta[i];
    const y = tb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
    } else if (x !== y) {
      if (nx !== ny) return nx ? 1 : -1;
      return x < y ? -1 : 1;
    }
  }
  return 0;
}
