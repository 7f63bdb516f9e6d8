/** @module object-store/store — Pithos' backend: containers, object versions, quotas, publishing. */
import { randomInt, randomUUID } from "node:crypto";
import { join } from "node:path";
import { merkleHash } from "@icaas/synnefo";
import type { DevUser } from "../config.ts";
import type { DevcloudContext } from "../context.ts";
import { badRequest, Fault, forbidden, itemNotFound } from "../fault.ts";
import { BlockStore } from "./block-store.ts";
import { formatSharing, type Sharing } from "./headers.ts";
import {
  type Container,
  type ContainerPolicy,
  type ContainerRecord,
  ObjectIndex,
  type ObjectLocation,
  type ObjectRecord,
} from "./object-index.ts";

export const BLOCK_SIZE = 4 * 1024 * 1024;
export const BLOCK_HASH = "sha256";
/** Pithos' `DEFAULT_RESOURCE_MAX_METADATA`. */
const MAX_METADATA = 32;
const PUBLIC_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** What the image module (and tests) see of an object. */
export interface StoredObject {
  account: string;
  container: string;
  name: string;
  uuid: string;
  bytes: number;
  /** Merkle hash (the ETag). */
  hash: string;
  contentType: string;
  /** User metadata with canonical keys and no prefix: `{"Os": "debian"}`. */
  meta: Record<string, string>;
  sharing: { read: string[]; write: string[] };
  version: number;
  /** ms since the epoch. */
  modified: number;
  modifiedBy: string;
  publicUrl?: string;
  /** `pithos://<account>/<container>/<name>`. */
  location: string;
}

/** The fields a write sets on an object's new version. */
export interface ObjectWrite {
  bytes: number;
  hashes: string[];
  contentType: string;
  meta: Record<string, string>;
  replaceMeta: boolean;
  sharing?: Sharing;
  public?: boolean;
}

/**
 * The state behind the Pithos API: a block store, the object index, quotas (the owner's
 * `quotas.diskspaceBytes`, relayed from "Astakos" as `{"fault": …}`; a container's quota policy as
 * `requestEntityTooLarge`), and a lock per object so data updates of one object do not interleave.
 */
export class PithosStore {
  readonly blocks: BlockStore;
  readonly index: ObjectIndex;
  readonly ctx: DevcloudContext;
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(ctx: DevcloudContext) {
    this.ctx = ctx;
    const dir = join(ctx.dataDir, "pithos");
    this.blocks = new BlockStore(join(dir, "blocks"), BLOCK_SIZE, BLOCK_HASH);
    this.index = new ObjectIndex(dir, BLOCK_SIZE);
  }

  async start(): Promise<void> {
    await this.blocks.start();
    await this.index.start();
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#locks.values()]);
    await this.index.close();
  }

  /** Runs `fn` alone for this key (writes to one object). */
  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.#locks.set(key, settled);
    try {
      return await run;
    } finally {
      if (this.#locks.get(key) === settled) this.#locks.delete(key);
    }
  }

  /** The public URL of a token: `${publicUrl}/object-store/public/<token>`. */
  publicUrl(token: string): string {
    return `${this.ctx.publicUrl()}/object-store/public/${token}`;
  }

  /** Only the owner writes; others read objects shared with them. */
  requireOwner(user: DevUser, account: string): void {
    if (user.uuid !== account) throw forbidden("Not allowed");
  }

  container(account: string, name: string): Container {
    const container = this.index.container(account, name);
    if (!container) throw itemNotFound("Container does not exist");
    return container;
  }

  object(account: string, container: string, name: string): ObjectRecord {
    this.container(account, container);
    const record = this.index.object(account, container, name);
    if (!record) throw itemNotFound("Object does not exist");
    return record;
  }

  /** May `user` read this object (owner, or named in its read/write sharing, or `*`)? */
  canRead(user: DevUser, account: string, record: ObjectRecord): boolean {
    if (user.uuid === account) return true;
    const all = [...(record.sharing?.read ?? []), ...(record.sharing?.write ?? [])];
    return all.includes("*") || all.includes(user.uuid);
  }

  async createContainer(
    account: string,
    name: string,
    policy: Partial<ContainerPolicy>,
    meta: Record<string, string>,
  ): Promise<boolean> {
    const existing = this.index.container(account, name);
    const now = Date.now();
    const record: ContainerRecord = existing
      ? {
          created: existing.created,
          modified: now,
          policy: { ...existing.policy, ...policy },
          meta: { ...existing.meta, ...meta },
        }
      : {
          created: now,
          modified: now,
          policy: { quota: 0, versioning: "auto", project: account, ...policy },
          meta,
        };
    await this.index.setContainer(account, name, record);
    return existing === undefined;
  }

  async updateContainer(
    account: string,
    name: string,
    policy: Partial<ContainerPolicy>,
    meta: Record<string, string>,
    replace: boolean,
  ): Promise<void> {
    const c = this.container(account, name);
    const merged = replace ? {} : { ...c.meta };
    for (const [k, v] of Object.entries(meta)) {
      if (v === "") delete merged[k];
      else merged[k] = v;
    }
    await this.index.setContainer(account, name, {
      created: c.created,
      modified: Date.now(),
      policy: { ...c.policy, ...policy },
      meta: Object.fromEntries(Object.entries(merged)),
    });
  }

  async deleteContainer(account: string, name: string): Promise<void> {
    const c = this.container(account, name);
    if (c.objects.size > 0) throw new Fault(409, "conflict", "Container is not empty");
    await this.index.setContainer(account, name, null);
  }

  /** Blocks of `hashes` that are not stored, each once, in order. */
  missing(hashes: string[]): string[] {
    const out = new Set<string>();
    for (const h of hashes) if (!this.blocks.has(h)) out.add(h);
    return [...out];
  }

  /**
   * Writes a new version of an object from a hashmap whose blocks are all stored. Checks the size
   * against the hash count (400), the container quota and the owner's storage quota (413).
   */
  async writeObject(
    user: DevUser,
    account: string,
    container: string,
    name: string,
    write: ObjectWrite,
  ): Promise<ObjectRecord> {
    if (!sizeMatches(write.bytes, write.hashes, this.blocks.blockSize, this.blocks.emptyHash)) {
      throw badRequest("The object's size does not match with the object's hashmap length");
    }
    const hashes = write.bytes === 0 ? [] : write.hashes;
    // Pithos stores the empty block for an empty object ("no such thing as an empty hashmap").
    if (write.bytes === 0) await this.blocks.put(Buffer.alloc(0));
    const hash = merkleHash(hashes, this.blocks.algorithm);
    await this.index.saveHashmap(hash, hashes);
    // From here on nothing awaits until the index is updated: checks and update are one step.
    const c = this.container(account, container);
    const prev = c.objects.get(name);
    const meta = mergeMeta(write.replaceMeta ? {} : (prev?.meta ?? {}), write.meta);
    this.checkQuotas(account, c, write.bytes - (prev?.bytes ?? 0));
    const record: ObjectRecord = {
      uuid: prev?.uuid ?? randomUUID(),
      bytes: write.bytes,
      hash,
      contentType: write.contentType,
      version: this.index.nextSerial(),
      modified: Date.now(),
      modifiedBy: user.uuid,
      meta,
      sharing: write.sharing === undefined ? prev?.sharing : emptyToUndefined(write.sharing),
      public: publicToken(prev?.public, write.public),
      domains: prev?.domains ?? {},
    };
    await this.index.setObject(account, container, name, record);
    return record;
  }

  /**
   * A new version with changed metadata, sharing or publicity but the same data (POST on an object,
   * and the image module's domain metadata). Metadata changes make a new version, as in Pithos.
   */
  async updateObject(
    location: ObjectLocation,
    change: (prev: ObjectRecord) => Partial<ObjectRecord>,
    options: { newVersion: boolean; user?: string },
  ): Promise<ObjectRecord> {
    const prev = this.object(location.account, location.container, location.name);
    const changed = change(prev);
    const record: ObjectRecord = {
      ...prev,
      ...changed,
      ...(options.newVersion
        ? {
            version: this.index.nextSerial(),
            modified: Date.now(),
            modifiedBy: options.user ?? prev.modifiedBy,
          }
        : {}),
    };
    if (Object.keys(record.meta).length > MAX_METADATA) throw tooManyMeta();
    for (const domain of Object.values(record.domains)) {
      if (Object.keys(domain).length > MAX_METADATA) throw tooManyMeta();
    }
    await this.index.setObject(location.account, location.container, location.name, record);
    return record;
  }

  async deleteObject(account: string, container: string, name: string): Promise<void> {
    this.object(account, container, name);
    await this.index.setObject(account, container, name, null);
  }

  /** A container's quota policy, then the owner's storage quota (Astakos' `pithos.diskspace`). */
  checkQuotas(account: string, container: Container, delta: number): void {
    if (delta <= 0) return;
    const limit = container.policy.quota;
    const usage = container.bytes + delta;
    if (limit > 0 && usage > limit) {
      throw new Fault(
        413,
        "requestEntityTooLarge",
        `Quota error: Container quota exceeded: limit: ${limit}, usage: ${usage}`,
      );
    }
    const owner = this.ctx.users.byUuid(account);
    const diskspace = owner?.quotas?.diskspaceBytes;
    if (diskspace === undefined) return;
    const used = this.index.accountBytes(account);
    if (used + delta > diskspace) {
      throw new Fault(
        413,
        "fault",
        "Resource Limit Exceeded for your account.",
        `Limit for resource 'Storage space' exceeded for your account. Available: ${diskspace - used}, Requested: ${delta}`,
      );
    }
  }

  /** The image module's view of an object. */
  describe(location: ObjectLocation, record: ObjectRecord): StoredObject {
    const meta: Record<string, string> = {};
    for (const [k, v] of Object.entries(record.meta)) {
      if (k.startsWith("X-Object-Meta-")) meta[k.slice("X-Object-Meta-".length)] = v;
    }
    return {
      account: location.account,
      container: location.container,
      name: location.name,
      uuid: record.uuid,
      bytes: record.bytes,
      hash: record.hash,
      contentType: record.contentType,
      meta,
      sharing: { read: [...(record.sharing?.read ?? [])], write: [...(record.sharing?.write ?? [])] },
      version: record.version,
      modified: record.modified,
      modifiedBy: record.modifiedBy,
      publicUrl: record.public ? this.publicUrl(record.public) : undefined,
      location: `pithos://${location.account}/${location.container}/${location.name}`,
    };
  }

  /** `X-Object-Sharing` as Pithos prints it. */
  sharingHeader(record: ObjectRecord): string | undefined {
    return formatSharing(record.sharing);
  }
}

/** Merges metadata: an empty value deletes the key; more than 32 entries is a 400. */
export function mergeMeta(
  base: Record<string, string>,
  changes: Record<string, string>,
): Record<string, string> {
  const merged = new Map(Object.entries(base));
  for (const [k, v] of Object.entries(changes)) {
    if (v === "") merged.delete(k);
    else merged.set(k, v);
  }
  if (merged.size > MAX_METADATA) throw tooManyMeta();
  return Object.fromEntries(merged);
}

function tooManyMeta(): Fault {
  return badRequest(`Pithos+ resources cannot have more than ${MAX_METADATA} metadata items per domain`);
}

/** Pithos' `_size_is_consistent`: one hash per started block; 0 bytes → `[]` or `[hash of ""]`. */
export function sizeMatches(bytes: number, hashes: string[], blockSize: number, emptyHash: string): boolean {
  if (!Number.isSafeInteger(bytes) || bytes < 0) return false;
  if (bytes === 0) return hashes.length === 0 || (hashes.length === 1 && hashes[0] === emptyHash);
  return hashes.length === Math.ceil(bytes / blockSize);
}

export function emptyToUndefined(sharing: Sharing): Sharing | undefined {
  return sharing.read?.length || sharing.write?.length ? sharing : undefined;
}

/** Keeps, creates or drops the public token; an already public object keeps its URL. */
export function publicToken(current: string | undefined, wanted: boolean | undefined): string | undefined {
  if (wanted === undefined) return current;
  if (!wanted) return undefined;
  if (current) return current;
  let token = "";
  for (let i = 0; i < 16; i++) token += PUBLIC_ALPHABET[randomInt(PUBLIC_ALPHABET.length)];
  return token;
}
