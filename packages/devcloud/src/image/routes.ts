/** @module routes — Plankton's image API, as `plankton/urls.py` of the release being played routes it. */
import type { DevcloudContext } from "../context.ts";
import { badRequest } from "../fault.ts";
import { readJson, sendEmpty, sendJson } from "../http-util.ts";
import { type Handler, Router } from "../router.ts";
import { requireUser } from "../users.ts";
import { DETAIL_FIELDS, headersToParams, imageHeaders } from "./headers.ts";
import type { PlanktonImage } from "./image-record.ts";
import type { PlanktonRegistry } from "./registry.ts";

const SORT_KEYS = [
  "id",
  "name",
  "status",
  "size",
  "disk_format",
  "container_format",
  "created_at",
  "updated_at",
];
const LIST_FIELDS = ["status", "name", "disk_format", "container_format", "size", "id"];

export function imageRouter(ctx: DevcloudContext, registry: PlanktonRegistry, prefix: string): Router {
  const user = (req: Parameters<typeof requireUser>[1], url: URL) => requireUser(ctx.users, req, url).uuid;

  const list =
    (detail: boolean) =>
    ({ req, res, url, query }: Parameters<Parameters<Router["add"]>[2]>[0]) => {
      const u = user(req, url);
      const sortKey = query.get("sort_key") ?? "created_at";
      const sortDir = query.get("sort_dir") ?? "desc";
      if (!SORT_KEYS.includes(sortKey)) throw badRequest("Invalid 'sort_key'");
      if (sortDir !== "asc" && sortDir !== "desc") throw badRequest("Invalid 'sort_dir'");
      for (const key of ["size_min", "size_max"]) {
        const value = query.get(key);
        if (value !== null && !/^\s*[+-]?\d+\s*$/.test(value)) throw badRequest("Malformed request.");
      }
      // Plankton parses its filters (name, status, …) but never applies them.
      const fields = detail ? DETAIL_FIELDS : LIST_FIELDS;
      const images = registry.list(u, sortKey, sortDir).map((image) => pick(image, fields));
      sendJson(res, 200, ctx.release.wrappedImageList ? { images } : images);
    };
  const register: Handler = async ({ req, res, url }) => {
    const u = user(req, url);
    req.resume();
    const image = await registry.register(u, headersToParams(req));
    sendEmpty(res, 200, imageHeaders(image));
  };

  // Django with APPEND_SLASH = False: every pattern matches slash for slash. Only `images/` (list and
  // register) has its slash, and only from 0.20 on may it be left out.
  const router = new Router(prefix, { exactPaths: true })
    .add("GET", "/images/", list(false))
    .add("POST", "/images/", register);
  if (ctx.release.imagesWithoutSlash)
    router.add("GET", "/images", list(false)).add("POST", "/images", register);
  return router
    .add("GET", "/images/detail", list(true))
    .add("HEAD", "/images/:id", ({ req, res, url, params }) => {
      const image = registry.get(user(req, url), params.id ?? "");
      sendEmpty(res, 200, imageHeaders(image));
    })
    .add("GET", "/images/:id", ({ req, res, url }) => {
      user(req, url);
      // Plankton never implemented downloading an image through its API.
      sendEmpty(res, 501);
    })
    .add("PUT", "/images/:id", async ({ req, res, url, params }) => {
      const u = user(req, url);
      req.resume();
      const image = await registry.update(u, params.id ?? "", headersToParams(req));
      sendEmpty(res, 200, imageHeaders(image));
    })
    .add("DELETE", "/images/:id", async ({ req, res, url, params }) => {
      await registry.unregister(user(req, url), params.id ?? "");
      sendEmpty(res, 204);
    })
    .add("GET", "/images/:id/members", ({ req, res, url, params }) => {
      const members = registry.members(user(req, url), params.id ?? "");
      sendJson(res, 200, { members: members.map((member_id) => ({ member_id, can_share: false })) });
    })
    .add("PUT", "/images/:id/members", async ({ req, res, url, params }) => {
      const u = user(req, url);
      const body = await readJson(req);
      const memberships = (body as { memberships?: unknown } | null)?.memberships;
      if (memberships === undefined || memberships === null)
        throw badRequest("Malformed request. Missing attribute 'memberships'.");
      if (!Array.isArray(memberships)) throw badRequest("Malformed request. Invalid 'memberships' field");
      const members = memberships.map((m) => {
        if (m === null || typeof m !== "object" || Array.isArray(m))
          throw badRequest("Invalid 'memberships' field");
        const id = (m as { member_id?: unknown }).member_id;
        if (id === undefined || id === null)
          throw badRequest("Malformed request. Missing attribute 'member_id'.");
        return String(id);
      });
      await registry.setMembers(u, params.id ?? "", (read) => {
        const isPublic = read.has("*");
        read.clear();
        for (const m of members) read.add(m);
        if (isPublic) read.add("*");
      });
      sendEmpty(res, 204);
    })
    .add("PUT", "/images/:id/members/:member", async ({ req, res, url, params }) => {
      const member = params.member ?? "";
      await registry.setMembers(user(req, url), params.id ?? "", (read) => read.add(member));
      sendEmpty(res, 204);
    })
    .add("DELETE", "/images/:id/members/:member", async ({ req, res, url, params }) => {
      const member = params.member ?? "";
      await registry.setMembers(user(req, url), params.id ?? "", (read) => read.delete(member));
      sendEmpty(res, 204);
    })
    .add("GET", "/shared-images/:member", ({ req, res, url, params }) => {
      const member = params.member ?? "";
      const shared = registry
        .list(user(req, url))
        .filter((image) => !image.is_public && image.owner === member)
        .map((image) => ({ image_id: image.id, can_share: false }));
      sendJson(res, 200, { shared_images: shared });
    });
}

function pick(image: PlanktonImage, fields: readonly string[]): Record<string, unknown> {
  const record = image as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of fields) if (field in record) out[field] = record[field];
  return out;
}
