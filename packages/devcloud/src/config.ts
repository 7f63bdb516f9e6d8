/** @module config — who and what a devcloud serves: users and tokens, flavors, images, quotas, the agent, the VMs. */
import { readFile } from "node:fs/promises";
import { isSynnefoRelease, STRICTEST_RELEASE, SYNNEFO_RELEASES, type SynnefoRelease } from "./release.ts";

export interface DevUser {
  uuid: string;
  /** Display name (usually an email in Synnefo). */
  name: string;
  token: string;
  /** ISO time the token expires; default: 30 days after start. */
  tokenExpires?: string;
  /** Projects the user is an accepted member of; the system project (= uuid) is always one. */
  projects?: string[];
  /** Default project (`token.tenant.id`); default: the uuid. */
  defaultProject?: string;
  active?: boolean;
  /** `false`: the user has not accepted the terms yet, so Astakos refuses the token ("Pending approval terms"). */
  signedTerms?: boolean;
  /** Quotas of the user's VMs and storage. */
  quotas?: { vms?: number; cpu?: number; ramMiB?: number; diskGiB?: number; diskspaceBytes?: number };
}

export interface DevFlavor {
  id: number;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  diskTemplate?: string;
  /** The compute driver of servers of this flavor; default the config's `computeDriver`. */
  driver?: "process" | "qemu";
}

export interface DevImage {
  id: string;
  name: string;
  /** Marks the image that boots an ICaaS agent: servers created from it run `agent.command`. */
  agent?: boolean;
  metadata?: Record<string, string>;
  /**
   * The image's raw diskdump on the devcloud's host, for the qemu driver (Plankton images are read from
   * Pithos instead). Its properties (OSFAMILY, ROOT_PARTITION, USERS, SWAP, FIRMWARE) come from `metadata`.
   */
  file?: string;
}

/** How the qemu compute driver runs VMs. */
export interface QemuSettings {
  /**
   * `tcg` (the default: software emulation, works everywhere), `kvm`, or `auto`: KVM only when a probe boot
   * of a Linux kernel under KVM reaches the kernel's own messages within `probeSeconds`.
   */
  accel?: "tcg" | "kvm" | "auto";
  /** The kernel the `auto` probe boots; default the newest `/boot/vmlinuz-*` of the host. */
  probeKernel?: string;
  /** Default 30. */
  probeSeconds?: number;
  /** Seconds between the ACPI power-off request and killing QEMU. Default 30. */
  powerOffSeconds?: number;
  /** Default `qemu-system-x86_64`. */
  binary?: string;
  /** OVMF's code, for images whose `FIRMWARE` is `uefi`. Default `/usr/share/OVMF/OVMF_CODE_4M.fd` (Debian's `ovmf`). */
  ovmfCode?: string;
  /** OVMF's pristine variable store, copied for each UEFI VM. Default `/usr/share/OVMF/OVMF_VARS_4M.fd`. */
  ovmfVars?: string;
}

export interface AgentCommand {
  /** argv of the process a "VM" runs, started in the VM's directory; `{root}` is replaced by it. */
  command: string[];
  /** Added to the small environment the process gets (PATH, HOME, LANG, TMPDIR); `{root}` is replaced too. */
  env?: Record<string, string>;
  /** Seconds between SIGTERM and SIGKILL when a server is deleted or shut down. Default 3. */
  stopGraceSeconds?: number;
}

export interface DevcloudConfig {
  /** The Synnefo release whose routes, answers and catalog the devcloud copies. Default `0.16`, the strictest. */
  synnefo?: SynnefoRelease;
  users: DevUser[];
  flavors: DevFlavor[];
  images: DevImage[];
  agent?: AgentCommand;
  /** Networks available to servers; `[]` allowed. */
  networks?: string[];
  /** Seconds a server stays in BUILD before it turns ACTIVE. Default 0.2. */
  bootSeconds?: number;
  /** What a VM is: `process` (the default: a directory and the agent process) or `qemu` (a booted disk). */
  computeDriver?: "process" | "qemu";
  qemu?: QemuSettings;
  /**
   * The base URL a VM reaches the devcloud at, published in the catalog of requests that come through it
   * (their Host header names it). Default `http://10.0.2.2:<port>`: the host as QEMU's user network shows it.
   */
  guestUrl?: string;
}

export const DEMO_TOKEN = "demo-token-0123456789abcdefghijklmnopqrstu";
export const DEMO_USER_UUID = "0b5d2f0e-6e7c-4a57-9c8e-0d1f2a3b4c5d";
export const AGENT_IMAGE_ID = "5e3c2b4a-1d6f-4c88-9a0b-1234567890ab";

/** The configuration a devcloud uses when given none: one demo user, two flavors, the agent image. */
export function defaultConfig(): DevcloudConfig {
  return {
    synnefo: STRICTEST_RELEASE,
    users: [
      {
        uuid: DEMO_USER_UUID,
        name: "demo@example.org",
        token: DEMO_TOKEN,
        quotas: { vms: 10, diskspaceBytes: 200 * 2 ** 30 },
      },
    ],
    flavors: [
      { id: 1, name: "C1R1024D20ldisk", vcpus: 1, ram: 1024, disk: 20, diskTemplate: "ext_vlmc" },
      { id: 2, name: "C2R2048D40ldisk", vcpus: 2, ram: 2048, disk: 40, diskTemplate: "ext_vlmc" },
    ],
    images: [
      {
        id: AGENT_IMAGE_ID,
        name: "ICaaS agent (Debian 12)",
        agent: true,
        metadata: { OS: "debian", OSFAMILY: "linux" },
      },
    ],
    networks: [],
    bootSeconds: 0.2,
  };
}

/** Reads a JSON config file; missing keys take the defaults. */
export async function loadConfig(path: string | undefined): Promise<DevcloudConfig> {
  const base = defaultConfig();
  if (!path) return base;
  const parsed = JSON.parse(await readFile(path, "utf8")) as Partial<DevcloudConfig>;
  if (parsed.synnefo !== undefined && !isSynnefoRelease(parsed.synnefo))
    throw new Error(`${path}: "synnefo" must be one of ${SYNNEFO_RELEASES.join(", ")}`);
  return { ...base, ...parsed };
}
