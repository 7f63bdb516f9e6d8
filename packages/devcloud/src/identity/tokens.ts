/** @module tokens — `POST /identity/v2.0/tokens`: Astakos' token check, in both request forms, and the public catalog. */
import type { DevUser } from "../config.ts";
import type { DevcloudContext } from "../context.ts";
import { badRequest, unauthorized } from "../fault.ts";
import { readJson, sendJson } from "../http-util.ts";
import type { RouteContext } from "../router.ts";
import { serviceCatalog } from "./catalog.ts";
import { isoformat } from "./iso-time.ts";

/** Astakos' default token lifetime, used for users whose config sets no `tokenExpires`. */
const TOKEN_LIFETIME_MS = 30 * 24 * 3600 * 1000;

/** Builds the handler; `startedAt` anchors the default expiry so it is stable while the devcloud runs. */
export function tokensHandler(ctx: DevcloudContext, startedAt = Date.now()) {
  return async ({ req, res }: RouteContext): Promise<void> => {
    const catalog = serviceCatalog(ctx.urlFor(req), ctx.release.unversionedImageEndpoint);
    // Astakos answers the catalog alone when there is no body (Content-Length 0 or missing).
    const length = Number(req.headers["content-length"] ?? 0);
    if (!length) {
      req.resume();
      sendJson(res, 200, { access: { serviceCatalog: catalog } });
      return;
    }
    const body = await readJson(req);
    const { tokenId, uuid, tenant } = readCredentials(body);
    if (tokenId === null) throw badRequest("Malformed request: missing token");
    const user = typeof tokenId === "string" ? ctx.users.byToken(tokenId) : undefined;
    if (!user) throw unauthorized("Invalid token");
    const reason = ctx.users.invalidReason(user);
    if (reason) throw unauthorized(reason);
    if (uuid !== undefined && uuid !== user.uuid) throw unauthorized("Invalid credentials");
    if (tenant && tenant !== user.uuid) throw badRequest("Not conforming tenantName");
    sendJson(res, 200, { access: accessDocument(ctx, user, startedAt, catalog) });
  };
}

/** Mirrors astakos/api/tokens.py: `token.id` first, then `passwordCredentials`, else "missing credentials". */
function readCredentials(body: unknown): { tokenId: unknown; uuid: unknown; tenant: unknown } {
  const auth = isObject(body) ? body.auth : undefined;
  if (isObject(auth)) {
    const tenant = auth.tenantName;
    if (isObject(auth.token) && "id" in auth.token)
      return { tokenId: auth.token.id, uuid: undefined, tenant };
    const creds = auth.passwordCredentials;
    if (isObject(creds) && "password" in creds && "username" in creds)
      return { tokenId: creds.password, uuid: creds.username, tenant };
  }
  throw badRequest("Malformed request: missing credentials");
}

function accessDocument(
  ctx: DevcloudContext,
  user: DevUser,
  startedAt: number,
  catalog: ReturnType<typeof serviceCatalog>,
) {
  const expires = user.tokenExpires ? Date.parse(user.tokenExpires) : startedAt + TOKEN_LIFETIME_MS;
  return {
    token: {
      id: user.token,
      expires: isoformat(expires),
      tenant: { id: ctx.users.defaultProjectOf(user), name: user.name },
    },
    user: {
      id: user.uuid,
      name: user.name,
      roles: [{ id: "1", name: "default" }],
      roles_links: [],
      ...(ctx.release.tokenHasProjects ? { projects: ctx.users.projectsOf(user) } : {}),
    },
    serviceCatalog: catalog,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
