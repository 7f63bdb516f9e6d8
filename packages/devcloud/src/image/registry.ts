/** @module registry — Plankton's backend: images are Pithos objects with metadata in their "plankton" domain. */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MAX_PROPERTY_VALUE_LENGTH } from "@icaas/synnefo";
import type { DevcloudContext } from "../context.ts";
import { badRequest, forbidden, itemNotFound } from "../fault.ts";
import { type ImageParams, unquote } from "./headers.ts";
import {
  imageToDict,
  isImage,
  PLANKTON_PREFIX,
  type PlanktonImage,
  PROPERTY_PREFIX,
} from "./image-record.ts";
import { canRead, type ObjectStorePort, objectStore, type StoredObjectView } from "./object-store-port.ts";

const DOMAIN = "plankton";
/** `MAX_META_KEY_LENGTH` (128 − len("plankton") − len("property:")) and `MAX_META_VALUE_LENGTH`. */
const MAX_KEY = 111;
const MAX_VALUE = MAX_PROPERTY_VALUE_LENGTH;
const DISK_FORMATS = ["diskdump", "extdump", "ntfsdump"];
const CONTAINER_FORMATS = ["aki", "ari", "ami", "bare", "ovf"];
const UPDATE_FIELDS = new Set([
  "name",
  "disk_format",
  "container_format",
  "is_public",
  "owner",
  "properties",
  "status",
]);
const ADD_FIELDS = new Set([
  "name",
  "id",
  "store",
  "disk_format",
  "container_format",
  "size",
  "checksum",
  "is_public",
  "owner",
  "properties",
  "location",
]);

/**
 * Register, read, update and unregister images. The metadata lives with the object (so it survives a
 * restart and follows the object); this registry only remembers which objects were ever registered, to
 * list them, in `<dataDir>/image/registered.json`.
 */
export class PlanktonRegistry {
  readonly #ctx: DevcloudContext;
  readonly #indexPath: string;
  #uuids = new Set<string>();

  constructor(ctx: DevcloudContext) {
    this.#ctx = ctx;
    this.#indexPath = join(ctx.dataDir, "image", "registered.json");
  }

  load(): void {
    try {
      this.#uuids = new Set(JSON.parse(readFileSync(this.#indexPath, "utf8")) as string[]);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }

  /** `add_image` + `PlanktonBackend.register`, checks in their order. */
  async register(user: string, params: ImageParams): Promise<PlanktonImage> {
    if (Object.keys(params).some((k) => !ADD_FIELDS.has(k))) throw badRequest("Invalid parameters");
    const { name, location } = params;
    if (name === undefined) throw badRequest("Image 'name' parameter is required");
    if (typeof name !== "string" || name.length === 0) throw badRequest("Invalid image name");
    if (location === undefined) throw badRequest("'location' parameter is required");
    const parts = splitUrl(String(location));
    if (!parts) throw badRequest(`Invalid location '${String(location)}'`);
    validateFields(params);
    const store = String(params.store ?? "pithos");
    if (store !== "pithos") throw badRequest(`Invalid store '${store}'. Only 'pithos' store is supported`);
    const diskFormat = String(params.disk_format ?? "diskdump");
    const containerFormat = String(params.container_format ?? "bare");

    const pithos = this.#pithos();
    const object = pithos.findObject(parts.account, parts.container, parts.name);
    if (!object)
      throw itemNotFound("Object does not exist", `${parts.account}/${parts.container}/${parts.name}`);
    if (!canRead(object, user)) throw forbidden("User does not have access to the object");
    if (params.size !== undefined) throw badRequest("Invalid 'size' field");
    if (params.checksum !== undefined && params.checksum !== object.hash)
      throw badRequest("Invalid checksum field");
    // Only the owner may set the object's permissions, which registering does.
    if (object.account !== user) throw forbidden("Only the owner can register an object as an image");

    const meta: Record<string, string> = {
      disk_format: diskFormat,
      container_format: containerFormat,
      name,
      created_at: String(Date.now() / 1000),
    };
    if (typeof params.owner === "string") meta.owner = params.owner;
    for (const [k, v] of Object.entries(params.properties)) meta[`${PROPERTY_PREFIX}${k}`] = v;
    const prefixed = prefixAndValidate(meta);

    await pithos.setReadSharing(object.uuid, params.is_public === true ? [user, "*"] : [user]);
    await pithos.setDomainMeta(object.uuid, DOMAIN, prefixed, { replace: false });
    this.#remember(object.uuid);
    this.#ctx.counters.add("image.registered");
    return this.get(user, object.uuid);
  }

  /** `get_image`: 404 for unknown objects and for objects that are not (or no longer) images. */
  get(user: string, uuid: string): PlanktonImage {
    const { object, meta } = this.#imageObject(user, uuid);
    return imageToDict(object, meta);
  }

  /** `update_image` + `update_metadata`: visibility through read sharing, the rest merged into the domain. */
  async update(user: string, uuid: string, params: ImageParams): Promise<PlanktonImage> {
    if (Object.keys(params).some((k) => !UPDATE_FIELDS.has(k))) throw badRequest("Invalid metadata");
    validateFields(params);
    const { object } = this.#imageObject(user, uuid);
    if (object.account !== user) throw forbidden("Only the owner can change an image");
    const meta: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) {
      if (k === "properties" || k === "is_public" || v === undefined) continue;
      meta[k] = String(v);
    }
    for (const [k, v] of Object.entries(params.properties)) meta[`${PROPERTY_PREFIX}${k}`] = v;
    const prefixed = prefixAndValidate(meta);
    const pithos = this.#pithos();
    if (typeof params.is_public === "boolean") {
      const read = new Set(object.sharing.read);
      if (params.is_public) read.add("*");
      else read.delete("*");
      await pithos.setReadSharing(uuid, [...read]);
    }
    await pithos.setDomainMeta(uuid, DOMAIN, prefixed, { replace: false });
    return this.get(user, uuid);
  }

  /** `unregister`: the domain metadata goes, the object stays. */
  async unregister(user: string, uuid: string): Promise<void> {
    const { object } = this.#imageObject(user, uuid);
    if (object.account !== user) throw forbidden("Only the owner can unregister an image");
    await this.#pithos().setDomainMeta(uuid, DOMAIN, {}, { replace: true });
    this.#ctx.counters.add("image.unregistered");
  }

  /** The user's own images, those shared with it and public ones, sorted as asked. */
  list(user: string, sortKey = "created_at", sortDir = "desc"): PlanktonImage[] {
    const pithos = this.#pithos();
    const images: PlanktonImage[] = [];
    for (const uuid of this.#uuids) {
      const object = pithos.findObjectByUuid(uuid);
      const meta = object ? pithos.getDomainMeta(uuid, DOMAIN) : undefined;
      if (!object || !isImage(meta) || !canRead(object, user)) continue;
      images.push(imageToDict(object, meta ?? {}));
    }
    const dir = sortDir === "desc" ? -1 : 1;
    return images.sort((a, b) => {
      const x = (a as unknown as Record<string, string | number>)[sortKey] ?? "";
      const y = (b as unknown as Record<string, string | number>)[sortKey] ?? "";
      return x < y ? -dir : x > y ? dir : 0;
    });
  }

  /** Users with read access (`list_users`), the owner included, `*` left out. */
  members(user: string, uuid: string): string[] {
    return this.get(user, uuid).users;
  }

  async setMembers(user: string, uuid: string, change: (read: Set<string>) => void): Promise<void> {
    const { object } = this.#imageObject(user, uuid);
    if (object.account !== user) throw forbidden("Only the owner can share an image");
    const read = new Set(object.sharing.read);
    change(read);
    await this.#pithos().setReadSharing(uuid, [...read]);
  }

  #imageObject(user: string, uuid: string): { object: StoredObjectView; meta: Record<string, string> } {
    const pithos = this.#pithos();
    const object = pithos.findObjectByUuid(uuid);
    if (!object) throw itemNotFound("");
    if (!canRead(object, user)) throw forbidden("");
    const meta = pithos.getDomainMeta(uuid, DOMAIN);
    if (!isImage(meta)) throw itemNotFound(`Object '${uuid}' does not exist.`);
    return { object, meta: meta ?? {} };
  }

  #remember(uuid: string): void {
    if (this.#uuids.has(uuid)) return;
    this.#uuids.add(uuid);
    mkdirSync(join(this.#ctx.dataDir, "image"), { recursive: true });
    const tmp = `${this.#indexPath}.tmp`;
    writeFileSync(tmp, JSON.stringify([...this.#uuids]));
    renameSync(tmp, this.#indexPath);
  }

  #pithos(): ObjectStorePort {
    return objectStore(this.#ctx);
  }
}

/** `split_url`: `pithos:` + 4 more `/`-separated parts, the last one keeping its slashes. */
export function splitUrl(url: string): { account: string; container: string; name: string } | undefined {
  const t: string[] = [];
  let rest = url;
  while (t.length < 4) {
    const i = rest.indexOf("/");
    if (i < 0) break;
    t.push(rest.slice(0, i));
    rest = rest.slice(i + 1);
  }
  t.push(rest);
  if (t[0] !== "pithos:" || t.length !== 5) return undefined;
  // Each part is unquoted exactly once, as `urllib.unquote` does (a stray `%` stays a `%`).
  return { account: unquote(t[2] ?? ""), container: unquote(t[3] ?? ""), name: unquote(t[4] ?? "") };
}

/** `validate_fields` (note `STORE_TYPES = ('pithos')` is a string, so Plankton tests a substring). */
function validateFields(params: ImageParams): void {
  if ("id" in params) throw badRequest("Setting the image ID is not supported");
  if (params.store !== undefined && !"pithos".includes(String(params.store)))
    throw badRequest(`Invalid store type '${String(params.store)}'`);
  if (params.disk_format !== undefined && !DISK_FORMATS.includes(String(params.disk_format)))
    throw badRequest(`Invalid disk format '${String(params.disk_format)}'`);
  if (params.container_format !== undefined && !CONTAINER_FORMATS.includes(String(params.container_format)))
    throw badRequest(`Invalid container format '${String(params.container_format)}'`);
}

/** `_prefix_and_validate_metadata`. */
function prefixAndValidate(meta: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) {
    const key = `${PLANKTON_PREFIX}${k}`;
    if (key.length > MAX_KEY) throw badRequest(`Metadata keys should be less than ${MAX_KEY} characters`);
    if (v.length > MAX_VALUE)
      throw badRequest(`Metadata values should be less than ${MAX_VALUE} characters.`);
    out[key] = v;
  }
  return out;
}
