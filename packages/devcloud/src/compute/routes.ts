/** @module routes — Cyclades' compute API (`/compute/v2.0`): servers, their actions, flavors, images. */

import { limitsOf, overLimitDetails, type Resource } from "../account/quotas.ts";
import type { DevFlavor, DevUser } from "../config.ts";
import type { DevcloudContext } from "../context.ts";
import { badRequest, Fault, itemNotFound } from "../fault.ts";
import { readJson, sendEmpty, sendJson } from "../http-util.ts";
import { Router } from "../router.ts";
import { requireUser } from "../users.ts";
import {
  checkMetadata,
  checkMetadataLengths,
  isPasswordStrong,
  parseCreateRequest,
  randomPassword,
} from "./create-request.ts";
import { type ImageCatalog, imageToJson } from "./images.ts";
import { flavorToJson, serverToJson } from "./render.ts";
import type { ComputeUsage, ServerManager } from "./server-manager.ts";

const ACTIONS: Record<string, "START" | "STOP" | "REBOOT"> = {
  start: "START",
  "os-start": "START",
  shutdown: "STOP",
  "os-stop": "STOP",
  reboot: "REBOOT",
};

export function computeRouter(ctx: DevcloudContext, servers: ServerManager, images: ImageCatalog): Router {
  const user = (req: Parameters<typeof requireUser>[1], url: URL) => requireUser(ctx.users, req, url);
  const base = () => ctx.publicUrl();

  const listServers = (detail: boolean) =>
    (({ req, res, url, query }) => {
      const u = user(req, url);
      const since = query.get("changes-since");
      const list = servers.list(u, since);
      if (since && list.length === 0) return sendEmpty(res, 304);
      sendJson(res, 200, { servers: list.map((s) => serverToJson(base(), s, detail)) });
    }) satisfies Parameters<Router["add"]>[2];

  return new Router("/compute/v2.0")
    .add("GET", "/servers", listServers(false))
    .add("GET", "/servers/detail", listServers(true))
    .add("POST", "/servers", async ({ req, res, url }) => {
      const u = user(req, url);
      const body = await readJson(req);
      const created = createServer(ctx, servers, images, u, body);
      sendJson(res, 202, {
        server: {
          ...serverToJson(base(), created.server, true),
          status: "BUILD",
          adminPass: created.adminPass,
        },
      });
    })
    .add("GET", "/servers/:id", ({ req, res, url, params }) => {
      const server = servers.get(user(req, url), params.id ?? "");
      sendJson(res, 200, { server: serverToJson(base(), server, true) });
    })
    .add("DELETE", "/servers/:id", ({ req, res, url, params }) => {
      servers.delete(user(req, url), params.id ?? "");
      sendEmpty(res, 204);
    })
    .add("POST", "/servers/:id/action", async ({ req, res, url, params }) => {
      const u = user(req, url);
      const body = await readJson(req);
      if (body === null || typeof body !== "object" || Array.isArray(body))
        throw badRequest("Malformed request");
      const [key] = Object.keys(body);
      if (key === undefined) throw badRequest("Malformed Request.");
      const action = ACTIONS[key];
      if (!action) throw badRequest(`Action ${key} not supported`);
      const args = (body as Record<string, unknown>)[key];
      if (args !== undefined && args !== null && (typeof args !== "object" || Array.isArray(args)))
        throw badRequest(`Malformed request. Invalid '${key}' field`);
      const type = (args as { type?: unknown } | null)?.type ?? "SOFT";
      if (action === "REBOOT" && type !== "SOFT" && type !== "HARD")
        throw badRequest("Invalid 'type' attribute.");
      servers.action(u, params.id ?? "", action);
      sendEmpty(res, 202);
    })
    .add("GET", "/flavors", ({ req, res, url }) => {
      user(req, url);
      sendJson(res, 200, { flavors: ctx.config.flavors.map((f) => flavorToJson(base(), f, false)) });
    })
    .add("GET", "/flavors/detail", ({ req, res, url }) => {
      user(req, url);
      sendJson(res, 200, { flavors: ctx.config.flavors.map((f) => flavorToJson(base(), f, true)) });
    })
    .add("GET", "/flavors/:id", ({ req, res, url, params }) => {
      user(req, url);
      sendJson(res, 200, { flavor: flavorToJson(base(), findFlavor(ctx, params.id), true) });
    })
    .add("GET", "/images", ({ req, res, url }) => {
      const u = user(req, url);
      sendJson(res, 200, { images: images.list(u.uuid).map((i) => imageToJson(base(), i, false)) });
    })
    .add("GET", "/images/detail", ({ req, res, url }) => {
      const u = user(req, url);
      sendJson(res, 200, { images: images.list(u.uuid).map((i) => imageToJson(base(), i, true)) });
    })
    .add("GET", "/images/:id", ({ req, res, url, params }) => {
      const u = user(req, url);
      const id = params.id ?? "";
      const image = images.find(u.uuid, id);
      if (!image) throw itemNotFound(`Image '${id}' not found`);
      sendJson(res, 200, { image: imageToJson(base(), image, true) });
    });
}

/** `create_server` + `logic/servers.py:create`, check for check in Cyclades' order. */
function createServer(
  ctx: DevcloudContext,
  servers: ServerManager,
  images: ImageCatalog,
  user: DevUser,
  body: unknown,
) {
  const req = parseCreateRequest(body);
  const project = req.project ?? ctx.users.defaultProjectOf(user);
  const flavor = findFlavor(ctx, req.flavorRef);
  if (req.adminPass !== undefined && !isPasswordStrong(req.adminPass)) {
    throw badRequest(
      "Password not strong (must contain upper case, lower case, digits and be at least 10 characters!",
    );
  }
  const adminPass = req.adminPass ?? randomPassword();
  if (req.name.length > 255) throw badRequest("Server name is too long");
  checkMetadata(req.metadata);
  const image = images.find(user.uuid, req.imageRef);
  if (!image) throw itemNotFound(`Image '${req.imageRef}' not found`);
  const networks = resolveNetworks(ctx, req.networks);
  checkMetadataLengths(req.metadata);
  if (!ctx.users.projectsOf(user).includes(project))
    throw badRequest(`User ${user.uuid} not in project ${project}`);
  checkQuota(user, servers.usage(user.uuid, project), flavor);
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.metadata)) metadata[k] = String(v);
  const server = servers.create({
    user,
    name: req.name,
    image,
    flavor,
    metadata,
    personality: req.personality,
    networks,
    project,
    adminPass,
  });
  return { server, adminPass };
}

/** `util.get_flavor`: an id that is not an integer is 400, an unknown one 404. */
function findFlavor(ctx: DevcloudContext, ref: unknown): DevFlavor {
  let id: number;
  if (typeof ref === "number" && Number.isInteger(ref)) id = ref;
  else if (typeof ref === "string" && /^\s*[+-]?\d+\s*$/.test(ref)) id = Number.parseInt(ref, 10);
  else throw badRequest(`Invalid flavor ID '${typeof ref === "string" ? ref : JSON.stringify(ref)}'`);
  const flavor = ctx.config.flavors.find((f) => f.id === id);
  if (!flavor) throw itemNotFound("Flavor not found.");
  return flavor;
}

/** Omitted networks mean the configured defaults; otherwise each must name a configured network. */
function resolveNetworks(ctx: DevcloudContext, networks: Record<string, unknown>[] | undefined): string[] {
  const known = ctx.config.networks ?? [];
  if (networks === undefined) return [...known];
  return networks.map((n) => {
    if (n.port !== undefined && n.port !== null) throw itemNotFound(`Port '${String(n.port)}' not found.`);
    if (n.uuid === undefined || n.uuid === null)
      throw badRequest("Malformed request. Invalid 'networks' field");
    const uuid = String(n.uuid);
    if (!known.includes(uuid)) throw itemNotFound(`Network ${uuid} not found.`);
    return uuid;
  });
}

/** The commission Cyclades issues for a new VM: vm +1, cpu, ram and disk of the flavor. */
function checkQuota(user: DevUser, usage: ComputeUsage, flavor: DevFlavor): void {
  const limits = limitsOf(user);
  const wanted: [Resource, number][] = [
    ["cyclades.vm", 1],
    ["cyclades.cpu", flavor.vcpus],
    ["cyclades.ram", flavor.ram * 2 ** 20],
    ["cyclades.disk", flavor.disk * 2 ** 30],
  ];
  for (const [resource, amount] of wanted) {
    const used = usage[resource as keyof ComputeUsage] ?? 0;
    if (used + amount > limits[resource]) {
      throw new Fault(
        413,
        "overLimit",
        "Resource Limit Exceeded for your account.",
        overLimitDetails(resource, limits[resource], used, amount),
      );
    }
  }
}
