/** @module object-store-port — what Plankton needs of the object-store module (Pithos' backend calls). */
import type { DevcloudContext, ServiceModule } from "../context.ts";

/** An object as the object-store module describes it. */
export interface StoredObjectView {
  account: string;
  container: string;
  name: string;
  uuid: string;
  bytes: number;
  /** Merkle hash. */
  hash: string;
  sharing: { read: string[]; write: string[] };
  /** ms since the epoch (the version timestamp). */
  modified: number;
  publicUrl?: string;
}

/** The calls of the contract's `ObjectStoreModule` that Plankton uses. */
export interface ObjectStorePort {
  findObject(account: string, container: string, name: string): StoredObjectView | undefined;
  findObjectByUuid(uuid: string): StoredObjectView | undefined;
  getDomainMeta(uuid: string, domain: string): Record<string, string> | undefined;
  setDomainMeta(
    uuid: string,
    domain: string,
    meta: Record<string, string>,
    options: { replace: boolean },
  ): void | Promise<void>;
  setReadSharing(uuid: string, users: string[]): void | Promise<void>;
}

/** The object-store module, looked up when first needed (modules are built before they start). */
export function objectStore(ctx: DevcloudContext): ObjectStorePort {
  const module = ctx.module("object-store") as ServiceModule & Partial<ObjectStorePort>;
  for (const name of [
    "findObject",
    "findObjectByUuid",
    "getDomainMeta",
    "setDomainMeta",
    "setReadSharing",
  ] as const)
    if (typeof module[name] !== "function") throw new Error(`the object-store module has no ${name}()`);
  return module as ObjectStorePort;
}

/** Pithos' read check (`_can_read_object`): the owner, a user it is shared with, anyone when public. */
export function canRead(object: StoredObjectView, user: string): boolean {
  if (object.account === user) return true;
  if (object.publicUrl) return true;
  const { read, write } = object.sharing;
  return read.includes("*") || read.includes(user) || write.includes(user);
}
