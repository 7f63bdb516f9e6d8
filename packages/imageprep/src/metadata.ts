/** @module metadata — the image properties snf-image and Plankton read (OSFAMILY, ROOT_PARTITION, USERS, SORTORDER, …). */
import type { Inspection, OsInfo } from "./inspect.ts";
import { metadataLabel, type PartitionTable } from "./partitions.ts";

/** snf-image-creator's ordering weights: 1e6 × family + 1e4 × distro + 100 × major + minor. */
const FAMILY_ORDER: Record<string, number> = {
  windows: 8,
  linux: 7,
  freebsd: 6,
  netbsd: 5,
  openbsd: 4,
  hurd: 3,
};

export const DISTRO_ORDER: Record<string, number> = {
  ubuntu: 80,
  linuxmint: 75,
  debian: 70,
  rhel: 60,
  fedora: 58,
  centos: 55,
  // Not in snf-image-creator's list: CentOS's successors sort beside it.
  rocky: 54,
  almalinux: 53,
  scientificlinux: 50,
  sles: 45,
  opensuse: 44,
  archlinux: 40,
  gentoo: 35,
  slackware: 30,
  oraclelinux: 28,
  mageia: 20,
  mandriva: 19,
  cirros: 15,
  pardus: 10,
};

/**
 * SORTORDER as snf-image-creator computes it (major and minor capped at 99; an unknown distribution
 * gets the family part only). Debian 12.11 → 7701211.
 */
export function sortOrder(os: Pick<OsInfo, "type" | "distro" | "major" | "minor">): number {
  const base = 1_000_000 * (FAMILY_ORDER[os.type] ?? 0);
  const distro = DISTRO_ORDER[os.distro];
  if (distro === undefined) return base;
  return base + 10_000 * distro + 100 * Math.min(os.major, 99) + Math.min(os.minor, 99);
}

/** `ssh:port=P,user=U` per user (root left out when sshd refuses it), or `ssh:port=P` with no users. */
export function remoteConnection(users: string[], sshd: { port: number; permitRootLogin: string }): string {
  const allowed = sshd.permitRootLogin.toLowerCase() === "no" ? users.filter((u) => u !== "root") : users;
  if (allowed.length === 0) return `ssh:port=${sshd.port}`;
  return allowed.map((u) => `ssh:port=${sshd.port},user=${u}`).join(" ");
}

/**
 * FIRMWARE: `uefi` for a disk with an EFI system partition (it carries a UEFI boot loader, and may have
 * no other: a cloud must boot it with UEFI firmware, as the devcloud's qemu driver does with OVMF);
 * none otherwise (BIOS, every cloud's default).
 */
export function firmwareFor(table: PartitionTable | undefined): "uefi" | undefined {
  return table?.partitions.some((p) => p.kind === "efi") ? "uefi" : undefined;
}

/**
 * The metadata known before any task runs. USERS is taken here, before the accounts are locked; for
 * cloud-init images it is the users cloud-init will create. Bitnami images get OS=bitnami, their
 * README title as DESCRIPTION and the base system's description as OSVERSION, as snf-image-creator did.
 */
export function initialMetadata(
  inspection: Inspection,
  os: OsInfo,
  description?: string,
): Record<string, string> {
  const meta: Record<string, string> = { OSFAMILY: os.type };
  if (inspection.root) meta.ROOT_PARTITION = String(inspection.root.partition);
  meta.OS = os.distro !== "unknown" ? os.distro : os.type;
  if (os.version) meta.OSVERSION = os.version;
  meta.DESCRIPTION = os.description;
  if (os.bitnami) {
    meta.OS = "bitnami";
    if (os.bitnami.title) {
      meta.OSVERSION = os.description;
      meta.DESCRIPTION = os.bitnami.title;
    }
  }
  if (description) meta.DESCRIPTION = description;
  meta.SORTORDER = String(sortOrder(os));
  const users = os.cloudInit.enabled && os.cloudInit.users.length > 0 ? os.cloudInit.users : os.users;
  if (users.length > 0) meta.USERS = users.join(" ");
  if (os.kernel) meta.KERNEL = os.kernel;
  if (inspection.partitionTable) meta.PARTITION_TABLE = metadataLabel(inspection.partitionTable.label);
  const firmware = firmwareFor(inspection.partitionTable);
  if (firmware) meta.FIRMWARE = firmware;
  if (os.cloudInit.enabled) {
    meta.CLOUD_INIT = "yes";
    if (os.cloudInit.defaultUser) meta.CLOUD_INIT_DEFAULT_USER = os.cloudInit.defaultUser;
  }
  if (os.networkManager.enabled) meta.NM_NETWORKING = "yes";
  return meta;
}
