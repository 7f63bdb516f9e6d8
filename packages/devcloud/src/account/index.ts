/** @module account — Astakos' account API (`/account/v1.0`): quotas with live usage, resources, user catalogs. */
import type { IncomingMessage } from "node:http";
import type { DevUser } from "../config.ts";
import type { DevcloudContext, ServiceModule } from "../context.ts";
import { badRequest, unauthorized } from "../fault.ts";
import { readBody, sendJson } from "../http-util.ts";
import type { ObjectStoreModule } from "../object-store/index.ts";
import { Router } from "../router.ts";
import { tokenOf } from "../users.ts";
import { limitsOf, RESOURCES, type Resource } from "./quotas.ts";

export { limitsOf, overLimitDetails, RESOURCE_NAMES, RESOURCES, type Resource, UNLIMITED } from "./quotas.ts";

/** Usage charged to (user, project): compute offers it, the object-store usage is summed from its containers. */
export interface UsageSource {
  usage(userUuid: string, project: string): Partial<Record<Resource, number>>;
}

const RESOURCE_INFO: Record<Resource, { service: string; description: string; unit: string | null }> = {
  "cyclades.vm": { service: "cyclades_compute", description: "Number of virtual machines", unit: null },
  "cyclades.cpu": {
    service: "cyclades_compute",
    description: "Number of virtual machine processors of running servers",
    unit: null,
  },
  "cyclades.ram": {
    service: "cyclades_compute",
    description: "Virtual machine memory size of running servers",
    unit: "bytes",
  },
  "cyclades.disk": { service: "cyclades_compute", description: "Virtual machine disk size", unit: "bytes" },
  "cyclades.floating_ip": {
    service: "cyclades_network",
    description: "Number of Floating IP addresses",
    unit: null,
  },
  "cyclades.network.private": {
    service: "cyclades_network",
    description: "Number of private networks",
    unit: null,
  },
  "pithos.diskspace": {
    service: "pithos_object-store",
    description: "Pithos account diskspace",
    unit: "bytes",
  },
};

export function accountService(ctx: DevcloudContext): ServiceModule {
  const router = new Router("/account/v1.0")
    .add("GET", "/quotas", ({ req, res, url }) => {
      const user = astakosUser(ctx, req, url);
      sendJson(res, 200, quotasOf(ctx, user));
    })
    .add("GET", "/resources", ({ res }) => {
      const out: Record<string, unknown> = {};
      for (const name of RESOURCES)
        out[name] = { ...RESOURCE_INFO[name], ui_visible: true, api_visible: true };
      sendJson(res, 200, out);
    })
    .add("POST", "/user_catalogs", async ({ req, res, url }) => {
      astakosUser(ctx, req, url);
      let input: unknown;
      try {
        input = JSON.parse((await readBody(req, 1024 * 1024)).toString("utf8"));
      } catch {
        throw badRequest("Request body should be json formatted.");
      }
      if (input === null || typeof input !== "object" || Array.isArray(input))
        throw badRequest("Request body should be a json formatted dictionary");
      const { uuids = [], displaynames = [] } = input as { uuids?: unknown; displaynames?: unknown };
      if (!Array.isArray(displaynames))
        throw badRequest(`Invalid displaynames: ${JSON.stringify(displaynames)}`);
      if (displaynames.some((d) => typeof d !== "string"))
        throw badRequest("Items in 'displaynames' must be strings");
      const uuidCatalog: Record<string, string> = {};
      for (const uuid of Array.isArray(uuids) ? uuids : []) {
        const found = typeof uuid === "string" ? ctx.users.byUuid(uuid) : undefined;
        if (found) uuidCatalog[found.uuid] = found.name;
      }
      const nameCatalog: Record<string, string> = {};
      for (const name of displaynames as string[]) {
        const found = ctx.users.all().find((u) => u.name === name);
        if (found) nameCatalog[name] = found.uuid;
      }
      sendJson(res, 200, { uuid_catalog: uuidCatalog, displayname_catalog: nameCatalog });
    });
  return { name: "account", routers: [router] };
}

/** Astakos' own token check for account calls (`user_from_token`): its 401s are `unauthorized`, not `fault`. */
function astakosUser(ctx: DevcloudContext, req: IncomingMessage, url: URL): DevUser {
  const token = tokenOf(req, url);
  if (!token) throw unauthorized("Access denied. No authentication token");
  const user = ctx.users.byToken(token);
  if (!user) throw unauthorized("Invalid X-Auth-Token");
  const reason = ctx.users.invalidReason(user);
  if (reason) throw unauthorized(reason);
  return user;
}

/** `{"<project>": {"<resource>": {limit, usage, pending, project_limit, project_usage, project_pending}}}`. */
export function quotasOf(ctx: DevcloudContext, user: DevUser): Record<string, Record<string, unknown>> {
  const limits = limitsOf(user);
  const sources: UsageSource[] = [];
  const compute = optionalModule(ctx, "compute") as (ServiceModule & Partial<UsageSource>) | undefined;
  if (compute && typeof compute.usage === "function") sources.push(compute as UsageSource);
  const pithos = optionalModule(ctx, "object-store") as ObjectStoreModule | undefined;
  if (pithos?.store) sources.push(pithosUsage(pithos));
  const out: Record<string, Record<string, unknown>> = {};
  for (const project of ctx.users.projectsOf(user)) {
    const usage: Partial<Record<Resource, number>> = {};
    for (const source of sources)
      for (const [k, v] of Object.entries(source.usage(user.uuid, project)))
        usage[k as Resource] = (usage[k as Resource] ?? 0) + (v ?? 0);
    const row: Record<string, unknown> = {};
    for (const resource of RESOURCES) {
      const used = usage[resource] ?? 0;
      // Each devcloud project has this user as its only member, so project figures equal the member's.
      row[resource] = {
        limit: limits[resource],
        usage: used,
        pending: 0,
        project_limit: limits[resource],
        project_usage: used,
        project_pending: 0,
      };
    }
    out[project] = row;
  }
  return out;
}

/** Storage is charged to the project of each container (`X-Container-Policy-Project`). */
function pithosUsage(pithos: ObjectStoreModule): UsageSource {
  return {
    usage(userUuid, project) {
      let bytes = 0;
      for (const [, container] of pithos.store.index.containers(userUuid))
        if ((container.policy.project || userUuid) === project) bytes += container.bytes;
      return { "pithos.diskspace": bytes };
    },
  };
}

function optionalModule(ctx: DevcloudContext, name: "compute" | "object-store"): ServiceModule | undefined {
  try {
    return ctx.module(name);
  } catch {
    return undefined;
  }
}
