/** @module plankton — the Plankton image registry: register a Pithos object as an image, read, update, remove. */
import { SynnefoError } from "./errors.ts";
import { HttpClient } from "./http.ts";
import {
  type ImageInfo,
  imageFromHeaders,
  imageFromJson,
  normalizeLocation,
  propertyHeader,
  quoteValue,
} from "./plankton-headers.ts";

/**
 * The list/register route, with its slash: up to 0.19 Plankton routes only `^images/$` and Django
 * (`APPEND_SLASH = False`) answers `images` with 400 "API endpoint not found". kamaki calls `images/`.
 */
const IMAGES = "/images/";

export interface RegisterImageRequest {
  name: string;
  /** `pithos://<owner uuid>/<container>/<object>` (see `pithosLocation`). */
  location: string;
  diskFormat?: "diskdump" | "extdump" | "ntfsdump";
  containerFormat?: string;
  isPublic?: boolean;
  /** snf-image properties, e.g. `{ OSFAMILY: "linux", ROOT_PARTITION: "1", USERS: "root" }`. */
  properties?: Record<string, string>;
  /** If given, must equal the object's Merkle hash (Plankton checks it). */
  checksum?: string;
}

export interface PlanktonClientOptions {
  /** The image API with its version, e.g. `https://cyclades.example.org/image/v1.0`. */
  imageUrl: string;
  token: string;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
}

/**
 * A Plankton client bound to one user's token.
 *
 * @example
 * const plankton = new PlanktonClient({ imageUrl: catalog.endpoint("image"), token });
 * const image = await plankton.register({ name: "Debian 12", location: pithosLocation(uuid, "images", "deb.raw"),
 *   properties: { OSFAMILY: "linux", ROOT_PARTITION: "1" } });
 */
export class PlanktonClient {
  readonly #http: HttpClient;

  constructor(options: PlanktonClientOptions) {
    this.#http = new HttpClient({
      baseUrl: options.imageUrl,
      token: options.token,
      service: "image",
      timeoutMs: options.timeoutMs,
      retries: options.retries,
      backoffMs: options.backoffMs,
    });
  }

  /**
   * Registers an object as an image: `POST /images/` with headers only, 200 with the image in headers.
   * Safe to send again (the id is the object's uuid; properties merge), so it is retried like a GET.
   */
  async register(req: RegisterImageRequest): Promise<ImageInfo> {
    const headers: Record<string, string> = {
      "X-Image-Meta-Name": quoteValue(req.name),
      "X-Image-Meta-Location": normalizeLocation(req.location),
    };
    if (req.diskFormat !== undefined) headers["X-Image-Meta-Disk-Format"] = req.diskFormat;
    if (req.containerFormat !== undefined) headers["X-Image-Meta-Container-Format"] = req.containerFormat;
    if (req.isPublic !== undefined) headers["X-Image-Meta-Is-Public"] = req.isPublic ? "true" : "false";
    if (req.checksum !== undefined) headers["X-Image-Meta-Checksum"] = req.checksum;
    Object.assign(headers, propertyHeaders(req.properties));
    const res = await this.#http.call({
      method: "POST",
      path: IMAGES,
      headers,
      expect: [200, 201],
      idempotent: true,
    });
    return imageFromHeaders(res.headers);
  }

  /** The image's metadata (`HEAD /images/{id}`); 404 once unregistered. */
  async head(id: string): Promise<ImageInfo> {
    const res = await this.#http.call({ method: "HEAD", path: `/images/${encodeURIComponent(id)}` });
    return imageFromHeaders(res.headers);
  }

  /**
   * The user's own, shared and public images. Plankton ignores its filter parameters, so filter the
   * result here; `sortKey`/`sortDir` are honoured by the server.
   */
  async list(
    options: {
      detail?: boolean;
      sortKey?:
        | "id"
        | "name"
        | "status"
        | "size"
        | "disk_format"
        | "container_format"
        | "created_at"
        | "updated_at";
      sortDir?: "asc" | "desc";
    } = {},
  ): Promise<ImageInfo[]> {
    const { data } = await this.#http.json<
      { images?: Record<string, unknown>[] } | Record<string, unknown>[]
    >({
      method: "GET",
      path: options.detail ? "/images/detail" : IMAGES,
      query: { sort_key: options.sortKey, sort_dir: options.sortDir },
    });
    // A bare array up to 0.20, `{"images": …}` after (kamaki accepts both).
    const items = Array.isArray(data) ? data : (data?.images ?? []);
    return items.map(imageFromJson);
  }

  /** Changes name, formats, visibility or properties (merged); `PUT /images/{id}` → 200 with headers. */
  async update(id: string, changes: Partial<RegisterImageRequest>): Promise<ImageInfo> {
    if (changes.location !== undefined || changes.checksum !== undefined) {
      throw new SynnefoError({
        status: 400,
        code: "badRequest",
        message: "Invalid metadata",
        details: "location and checksum cannot change; register the object again instead",
        service: "image",
        request: `PUT /images/${id}`,
      });
    }
    const headers: Record<string, string> = {};
    if (changes.name !== undefined) headers["X-Image-Meta-Name"] = quoteValue(changes.name);
    if (changes.diskFormat !== undefined) headers["X-Image-Meta-Disk-Format"] = changes.diskFormat;
    if (changes.containerFormat !== undefined)
      headers["X-Image-Meta-Container-Format"] = changes.containerFormat;
    if (changes.isPublic !== undefined)
      headers["X-Image-Meta-Is-Public"] = changes.isPublic ? "true" : "false";
    Object.assign(headers, propertyHeaders(changes.properties));
    const res = await this.#http.call({ method: "PUT", path: `/images/${encodeURIComponent(id)}`, headers });
    return imageFromHeaders(res.headers);
  }

  /** Removes the image's Plankton metadata; the Pithos object stays (204). */
  async unregister(id: string): Promise<void> {
    await this.#http.call({ method: "DELETE", path: `/images/${encodeURIComponent(id)}`, expect: [204] });
  }

  /** Users the image is shared with (read access), without `*`. */
  async listMembers(id: string): Promise<string[]> {
    const { data } = await this.#http.json<{ members?: { member_id: string }[] }>({
      method: "GET",
      path: `/images/${encodeURIComponent(id)}/members`,
    });
    return (data?.members ?? []).map((m) => m.member_id);
  }

  async addMember(id: string, member: string): Promise<void> {
    await this.#http.call({
      method: "PUT",
      path: `/images/${encodeURIComponent(id)}/members/${encodeURIComponent(member)}`,
      expect: [204],
    });
  }

  async removeMember(id: string, member: string): Promise<void> {
    await this.#http.call({
      method: "DELETE",
      path: `/images/${encodeURIComponent(id)}/members/${encodeURIComponent(member)}`,
      expect: [204],
    });
  }

  /** Replaces the member list (public images stay public). */
  async setMembers(id: string, members: string[]): Promise<void> {
    await this.#http.call({
      method: "PUT",
      path: `/images/${encodeURIComponent(id)}/members`,
      json: { memberships: members.map((member_id) => ({ member_id })) },
      expect: [204],
    });
  }
}

function propertyHeaders(properties: Record<string, string> | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(properties ?? {}))
    headers[propertyHeader(key)] = quoteValue(value);
  return headers;
}
