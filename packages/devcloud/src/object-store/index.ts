/** @module object-store — devcloud's Pithos: `/object-store/v1` and public URLs, blocks on disk. */
import type { DevcloudContext, ServiceModule } from "../context.ts";
import { Router } from "../router.ts";
import type { Sharing } from "./headers.ts";
import { objectBytes } from "./object-reader.ts";
import { addAccountRoutes } from "./routes-account.ts";
import { addContainerRoutes } from "./routes-container.ts";
import { addObjectRoutes } from "./routes-object.ts";
import { publicRouter } from "./routes-public.ts";
import { PithosStore, type StoredObject } from "./store.ts";

export type { StoredObject } from "./store.ts";

/**
 * The object-store module as other modules see it through `ctx.module("object-store")`: Plankton
 * registers images on Pithos objects and keeps their properties in the object's "plankton" domain.
 */
export interface ObjectStoreModule extends ServiceModule {
  name: "object-store";
  store: PithosStore;
  findObject(account: string, container: string, name: string): StoredObject | undefined;
  findObjectByUuid(uuid: string): StoredObject | undefined;
  /** Metadata of another domain (e.g. "plankton"); `undefined` when the object does not exist. */
  getDomainMeta(uuid: string, domain: string): Record<string, string> | undefined;
  /** Sets a domain's metadata (merging unless `replace`; empty values delete); a new object version. */
  setDomainMeta(
    uuid: string,
    domain: string,
    meta: Record<string, string>,
    options: { replace: boolean },
  ): Promise<void>;
  /** Replaces who may read the object (user uuids, or `*` for everyone); write sharing is kept. */
  setReadSharing(uuid: string, users: string[]): Promise<void>;
  /** The bytes of the object's current version, streamed block by block; undefined when it does not exist. */
  readObject(uuid: string): Promise<{ bytes: number; chunks: AsyncGenerator<Buffer> } | undefined>;
}

/** Builds the object-store module. Register it before the image module. */
export function objectStoreFactory(ctx: DevcloudContext): ObjectStoreModule {
  const store = new PithosStore(ctx);
  const api = new Router("/object-store/v1");
  addAccountRoutes(api, store);
  addContainerRoutes(api, store);
  addObjectRoutes(api, store);

  const located = (uuid: string) => {
    const location = store.index.locate(uuid);
    if (!location) return undefined;
    const record = store.index.object(location.account, location.container, location.name);
    return record ? { location, record } : undefined;
  };
  const update = async (uuid: string, change: Parameters<PithosStore["updateObject"]>[1]) => {
    const found = located(uuid);
    if (!found) throw new Error(`no object with uuid ${uuid}`);
    const { account, container, name } = found.location;
    await store.withLock(`${account}/${container}/${name}`, () =>
      store.updateObject(found.location, change, { newVersion: true }),
    );
  };

  return {
    name: "object-store",
    routers: [api, publicRouter(store)],
    store,
    start: () => store.start(),
    close: () => store.close(),
    findObject(account, container, name) {
      const record = store.index.object(account, container, name);
      return record ? store.describe({ account, container, name }, record) : undefined;
    },
    findObjectByUuid(uuid) {
      const found = located(uuid);
      return found ? store.describe(found.location, found.record) : undefined;
    },
    getDomainMeta(uuid, domain) {
      const found = located(uuid);
      if (!found) return undefined;
      return { ...(Object.hasOwn(found.record.domains, domain) ? found.record.domains[domain] : {}) };
    },
    async setDomainMeta(uuid, domain, meta, options) {
      await update(uuid, (prev) => {
        const base = options.replace || !Object.hasOwn(prev.domains, domain) ? {} : prev.domains[domain]!;
        const merged = new Map(Object.entries(base));
        for (const [k, v] of Object.entries(meta)) {
          if (v === "") merged.delete(k);
          else merged.set(k, v);
        }
        const domains = new Map(Object.entries(prev.domains));
        domains.set(domain, Object.fromEntries(merged));
        return { domains: Object.fromEntries(domains) };
      });
    },
    async readObject(uuid) {
      const found = located(uuid);
      if (!found) return undefined;
      const { bytes } = found.record;
      const hashes = await store.index.hashmap(found.record);
      return { bytes, chunks: objectBytes(store.blocks, hashes, bytes, 0, bytes) };
    },
    async setReadSharing(uuid, users) {
      await update(uuid, (prev) => {
        const sharing: Sharing = { ...prev.sharing, read: [...new Set(users)] };
        if (sharing.read!.length === 0) delete sharing.read;
        return { sharing: sharing.read || sharing.write ? sharing : undefined };
      });
    },
  };
}
