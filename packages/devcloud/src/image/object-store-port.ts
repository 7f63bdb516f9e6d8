/** @module object-store-port — what Plankton needs of the object-store module (Pithos' backend calls). */
import type { DevcloudContext, ServiceModule } from "../context.ts";
import type { ObjectStoreModule, StoredObject } from "../object-store/index.ts";

/** An object as the object-store module describes it: the fields Plankton reads. */
export type StoredObjectView = Pick<
  StoredObject,
  "account" | "container" | "name" | "uuid" | "bytes" | "hash" | "sharing" | "modified" | "publicUrl"
>;

/** The calls of the contract's `ObjectStoreModule` that Plankton uses. */
export type ObjectStorePort = Pick<
  ObjectStoreModule,
  "findObject" | "findObjectByUuid" | "getDomainMeta" | "setDomainMeta" | "setReadSharing"
>;

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
