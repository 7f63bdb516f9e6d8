/** @module image-record — an image as Plankton's backend builds it from an object and its "plankton" metadata. */
import { planktonTime } from "../identity/iso-time.ts";
import type { StoredObjectView } from "./object-store-port.ts";

/** Synnefo keeps every Plankton field in the object's "plankton" domain, prefixed again with `plankton:`. */
export const PLANKTON_PREFIX = "plankton:";
export const PROPERTY_PREFIX = "property:";
/** Fields read back from the domain (`PLANKTON_META`); anything else stored there is ignored. */
const PLANKTON_META = new Set([
  "container_format",
  "disk_format",
  "name",
  "status",
  "created_at",
  "volume_id",
  "description",
]);

/** The dict `image_to_dict` returns (the fields the API shows). */
export interface PlanktonImage {
  id: string;
  name: string;
  checksum: string;
  location: string;
  size: number;
  owner: string;
  store: "pithos";
  is_snapshot: boolean;
  /** Raw backend state: AVAILABLE unless a `status` was stored. */
  status: string;
  is_public: boolean;
  /** Users with read access, without `*`. */
  users: string[];
  created_at: string;
  updated_at: string;
  deleted_at: string;
  disk_format: string;
  container_format: string;
  description?: string;
  properties: Record<string, string>;
}

/** `create_url`: each part URL-quoted like Python's `quote` (keeping `/`). */
export function createUrl(account: string, container: string, name: string): string {
  return `pithos://${quote(account)}/${quote(container)}/${quote(name)}`;
}

function quote(text: string): string {
  return encodeURIComponent(text)
    .replace(/%2F/g, "/")
    .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function imageToDict(object: StoredObjectView, domainMeta: Record<string, string>): PlanktonImage {
  const read = object.sharing.read;
  const updated = object.modified;
  const created = Number(domainMeta[`${PLANKTON_PREFIX}created_at`]);
  const image: PlanktonImage = {
    id: object.uuid,
    name: "",
    checksum: object.hash,
    location: createUrl(object.account, object.container, object.name),
    size: object.bytes,
    owner: object.account,
    store: "pithos",
    is_snapshot: false,
    status: "AVAILABLE",
    is_public: read.includes("*"),
    users: read.filter((u) => u !== "*"),
    created_at: planktonTime(Number.isFinite(created) ? created * 1000 : updated),
    updated_at: planktonTime(updated),
    deleted_at: "",
    disk_format: "",
    container_format: "",
    properties: {},
  };
  for (const [rawKey, value] of Object.entries(domainMeta)) {
    if (!rawKey.startsWith(PLANKTON_PREFIX)) continue;
    const key = rawKey.slice(PLANKTON_PREFIX.length);
    if (PLANKTON_META.has(key)) {
      if (key !== "created_at") (image as unknown as Record<string, string>)[key] = value;
    } else if (key.startsWith(PROPERTY_PREFIX)) {
      image.properties[key.slice(PROPERTY_PREFIX.length)] = value;
    }
  }
  return image;
}

/** An object is an image while its domain metadata holds a name. */
export function isImage(domainMeta: Record<string, string> | undefined): boolean {
  return domainMeta?.[`${PLANKTON_PREFIX}name`] !== undefined;
}
