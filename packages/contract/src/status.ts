/** @module status — a build's status (the original ICaaS's four) and which of them are final. */

export const BUILD_STATUSES = ["CREATING", "COMPLETED", "ERROR", "CANCELED"] as const;

export type BuildStatus = (typeof BUILD_STATUSES)[number];

/** A build in one of these has ended: nothing changes it any more but a delete. */
export const FINAL_STATUSES = ["COMPLETED", "ERROR", "CANCELED"] as const satisfies readonly BuildStatus[];

export type FinalStatus = (typeof FINAL_STATUSES)[number];

/** True when a build with this status has ended (any string: it may come straight off the wire). */
export function isFinal(status: string): status is FinalStatus {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}
