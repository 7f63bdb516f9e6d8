/** @module quotas — the limits a devcloud user has and the usage it is charged, per (user, project). */
import type { DevUser } from "../config.ts";

/** Resources `GET /account/v1.0/quotas` shows (the `api_visible` ones of a Synnefo deployment). */
export const RESOURCES = [
  "cyclades.vm",
  "cyclades.cpu",
  "cyclades.ram",
  "cyclades.disk",
  "cyclades.floating_ip",
  "cyclades.network.private",
  "pithos.diskspace",
] as const;

export type Resource = (typeof RESOURCES)[number];

/** Astakos' friendly names, used in the 413 details (`astakosclient.utils.render_overlimit_exception`). */
export const RESOURCE_NAMES: Record<Resource, string> = {
  "cyclades.vm": "Virtual Machine",
  "cyclades.cpu": "CPU",
  "cyclades.ram": "RAM",
  "cyclades.disk": "Disk",
  "cyclades.floating_ip": "Floating IP address",
  "cyclades.network.private": "Private Network",
  "pithos.diskspace": "Storage space",
};

/** What a limit the config leaves unset is reported as (Synnefo's "infinite" is 2^63-1; JSON cannot carry it). */
export const UNLIMITED = Number.MAX_SAFE_INTEGER;

/**
 * The member limits of a user, the same in every project it belongs to: each project grants the user
 * the quotas of its config entry. Amounts are in bytes where Synnefo uses bytes.
 */
export function limitsOf(user: DevUser): Record<Resource, number> {
  const q = user.quotas ?? {};
  return {
    "cyclades.vm": q.vms ?? UNLIMITED,
    "cyclades.cpu": q.cpu ?? UNLIMITED,
    "cyclades.ram": q.ramMiB === undefined ? UNLIMITED : q.ramMiB * 2 ** 20,
    "cyclades.disk": q.diskGiB === undefined ? UNLIMITED : q.diskGiB * 2 ** 30,
    "cyclades.floating_ip": UNLIMITED,
    "cyclades.network.private": UNLIMITED,
    "pithos.diskspace": q.diskspaceBytes ?? UNLIMITED,
  };
}

/**
 * The 413 details Astakos' refusal turns into:
 * "Limit for resource 'Virtual Machine' exceeded for your account. Available: 0, Requested: 1".
 */
export function overLimitDetails(
  resource: Resource,
  limit: number,
  usage: number,
  requested: number,
): string {
  return `Limit for resource '${RESOURCE_NAMES[resource]}' exceeded for your account. Available: ${limit - usage}, Requested: ${requested}`;
}
