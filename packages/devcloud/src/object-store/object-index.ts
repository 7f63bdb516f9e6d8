/** @module object-store/object-index — accounts, containers and objects in memory, persisted by a journal. */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Sharing } from "./headers.ts";
import { Journal } from "./journal.ts";

export interface ContainerPolicy {
  /** Bytes; 0 = no limit. */
  quota: number;
  versioning: "auto" | "none";
  /** The project the container is charged to (the owner's uuid by default). */
  project: string;
}

export interface ContainerRecord {
  created: number;
  modified: number;
  policy: ContainerPolicy;
  /** `X-Container-Meta-*` by canonical header name. */
  meta: Record<string, string>;
}

export interface ObjectRecord {
  uuid: string;
  bytes: number;
  /** Merkle hash of the block hashes. */
  hash: string;
  contentType: string;
  version: number;
  /** ms since the epoch; also the version timestamp. */
  modified: number;
  modifiedBy: string;
  /** `X-Object-Meta-*` (and Content-Disposition / Content-Encoding) by canonical header name. */
  meta: Record<string, string>;
  sharing?: Sharing;
  /** The public URL token, when published. */
  public?: string;
  /** Metadata of other domains (Plankton keeps image properties in "plankton"). */
  domains: Record<string, Record<string, string>>;
}

export interface Container extends ContainerRecord {
  objects: Map<string, ObjectRecord>;
  /** Sum of the objects' sizes. */
  bytes: number;
}

export interface ObjectLocation {
  account: string;
  container: string;
  name: string;
}

type Op =
  | { t: "container"; a: string; c: string; v: ContainerRecord | null; s: number }
  | { t: "object"; a: string; c: string; o: string; v: ObjectRecord | null; s: number; at: number };

interface Snapshot {
  v: 1;
  serial: number;
  containers: { a: string; c: string; rec: ContainerRecord; objects: [string, ObjectRecord][] }[];
}

/**
 * The Pithos namespace. Reads are synchronous lookups in memory; each change updates memory at once
 * (so checks and updates never interleave with other requests) and resolves when it is journaled.
 * Hashmaps of objects bigger than one block live in `maps/<hh>/<merkle>` files (one hash per line).
 */
export class ObjectIndex {
  readonly dir: string;
  readonly blockSize: number;
  readonly #accounts = new Map<string, Map<string, Container>>();
  readonly #byUuid = new Map<string, ObjectLocation>();
  readonly #byPublic = new Map<string, string>();
  readonly #journal: Journal<Op>;
  #serial = 0;

  constructor(dir: string, blockSize: number) {
    this.dir = dir;
    this.blockSize = blockSize;
    this.#journal = new Journal<Op>(dir);
  }

  async start(): Promise<void> {
    await mkdir(join(this.dir, "maps", "tmp"), { recursive: true });
    const { snapshot, ops } = await this.#journal.load();
    if (snapshot) this.#restore(snapshot as Snapshot);
    for (const op of ops) this.#apply(op);
    await this.#journal.open(() => this.#snapshot());
  }

  async close(): Promise<void> {
    await this.#journal.close();
  }

  /** A new version number (global and increasing, like Pithos' version serials). */
  nextSerial(): number {
    return ++this.#serial;
  }

  containers(account: string): [string, Container][] {
    return [...(this.#accounts.get(account) ?? new Map<string, Container>()).entries()].sort(byName);
  }

  container(account: string, name: string): Container | undefined {
    return this.#accounts.get(account)?.get(name);
  }

  object(account: string, container: string, name: string): ObjectRecord | undefined {
    return this.container(account, container)?.objects.get(name);
  }

  locate(uuid: string): ObjectLocation | undefined {
    return this.#byUuid.get(uuid);
  }

  locatePublic(token: string): ObjectLocation | undefined {
    const uuid = this.#byPublic.get(token);
    return uuid === undefined ? undefined : this.#byUuid.get(uuid);
  }

  /** Bytes of every object of the account. */
  accountBytes(account: string): number {
    let sum = 0;
    for (const c of this.#accounts.get(account)?.values() ?? []) sum += c.bytes;
    return sum;
  }

  /** Creates or replaces a container's record (`null` removes an empty container). */
  setContainer(account: string, name: string, record: ContainerRecord | null): Promise<void> {
    const op: Op = { t: "container", a: account, c: name, v: record, s: this.#serial };
    this.#apply(op);
    return this.#journal.append(op);
  }

  /** Creates or replaces an object's record (`null` deletes it). */
  setObject(account: string, container: string, name: string, record: ObjectRecord | null): Promise<void> {
    const op: Op = {
      t: "object",
      a: account,
      c: container,
      o: name,
      v: record,
      s: this.#serial,
      at: record?.modified ?? Date.now(),
    };
    this.#apply(op);
    return this.#journal.append(op);
  }

  /** Stores a hashmap before an object refers to it (one-block objects need no file). */
  async saveHashmap(hash: string, hashes: string[]): Promise<void> {
    if (hashes.length <= 1) return;
    const path = this.#mapPath(hash);
    await mkdir(join(path, ".."), { recursive: true });
    const tmp = join(this.dir, "maps", "tmp", `${hash}.${randomBytes(6).toString("hex")}`);
    await writeFile(tmp, hashes.join("\n"));
    await rename(tmp, path);
  }

  /** The block hashes of an object. */
  async hashmap(record: ObjectRecord): Promise<string[]> {
    if (record.bytes === 0) return [];
    if (record.bytes <= this.blockSize) return [record.hash];
    const text = await readFile(this.#mapPath(record.hash), "utf8");
    return text.split("\n");
  }

  #mapPath(hash: string): string {
    return join(this.dir, "maps", hash.slice(0, 2), hash);
  }

  #apply(op: Op): void {
    this.#serial = Math.max(this.#serial, op.s, op.t === "object" && op.v ? op.v.version : 0);
    let account = this.#accounts.get(op.a);
    if (op.t === "container") {
      if (op.v === null) {
        account?.delete(op.c);
        return;
      }
      if (!account) {
        account = new Map();
        this.#accounts.set(op.a, account);
      }
      const existing = account.get(op.c);
      account.set(op.c, { ...op.v, objects: existing?.objects ?? new Map(), bytes: existing?.bytes ?? 0 });
      return;
    }
    const container = account?.get(op.c);
    if (!container) return;
    const old = container.objects.get(op.o);
    if (old) {
      container.bytes -= old.bytes;
      this.#byUuid.delete(old.uuid);
      if (old.public) this.#byPublic.delete(old.public);
    }
    if (op.v === null) {
      container.objects.delete(op.o);
    } else {
      container.objects.set(op.o, op.v);
      container.bytes += op.v.bytes;
      this.#byUuid.set(op.v.uuid, { account: op.a, container: op.c, name: op.o });
      if (op.v.public) this.#byPublic.set(op.v.public, op.v.uuid);
    }
    container.modified = Math.max(container.modified, op.at);
  }

  #snapshot(): Snapshot {
    const containers: Snapshot["containers"] = [];
    for (const [a, account] of this.#accounts) {
      for (const [c, container] of account) {
        const { objects, bytes: _bytes, ...rec } = container;
        containers.push({ a, c, rec, objects: [...objects.entries()] });
      }
    }
    return { v: 1, serial: this.#serial, containers };
  }

  #restore(snapshot: Snapshot): void {
    this.#serial = snapshot.serial;
    for (const { a, c, rec, objects } of snapshot.containers) {
      this.#apply({ t: "container", a, c, v: rec, s: snapshot.serial });
      for (const [o, v] of objects) {
        this.#apply({ t: "object", a, c, o, v, s: snapshot.serial, at: v.modified });
      }
    }
  }
}

function byName<T>(a: [string, T], b: [string, T]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}
