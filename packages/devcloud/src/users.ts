/** @module users — token → user lookups and the 401s Cyclades, Pithos and Plankton give. */
import type { IncomingMessage } from "node:http";
import type { DevUser } from "./config.ts";
import { Fault } from "./fault.ts";

/** The users of a devcloud, found by token or uuid. */
export class UserDirectory {
  readonly #byToken = new Map<string, DevUser>();
  readonly #byUuid = new Map<string, DevUser>();

  constructor(users: DevUser[]) {
    for (const user of users) {
      this.#byToken.set(user.token, user);
      this.#byUuid.set(user.uuid, user);
    }
  }

  byToken(token: string): DevUser | undefined {
    return this.#byToken.get(token);
  }

  byUuid(uuid: string): DevUser | undefined {
    return this.#byUuid.get(uuid);
  }

  all(): DevUser[] {
    return [...this.#byUuid.values()];
  }

  /** Projects the user may use: the system project (its uuid) and its memberships. */
  projectsOf(user: DevUser): string[] {
    return [...new Set([user.uuid, ...(user.projects ?? [])])];
  }

  defaultProjectOf(user: DevUser): string {
    return user.defaultProject ?? user.uuid;
  }

  /** True when the token exists, the user is active and the token has not expired. */
  isValid(user: DevUser, now = Date.now()): boolean {
    return this.invalidReason(user, now) === undefined;
  }

  /** Why Astakos refuses this user's token, in its own words and order; undefined when it does not. */
  invalidReason(user: DevUser, now = Date.now()): string | undefined {
    if (user.active === false) return "User inactive";
    if (user.tokenExpires !== undefined && Date.parse(user.tokenExpires) <= now)
      return "Authentication expired";
    if (user.signedTerms === false) return "Pending approval terms";
    return undefined;
  }
}

/** The token of a request: `X-Auth-Token`, or the `?X-Auth-Token=` query parameter. */
export function tokenOf(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers["x-auth-token"];
  const value = Array.isArray(header) ? header[0] : header;
  return value || url.searchParams.get("X-Auth-Token") || undefined;
}

/**
 * The authenticated user of a request to Cyclades, Pithos or Plankton. A missing token gives the
 * service's own 401; a bad one the `{"fault": …}` shape these services relay from Astakos.
 */
export function requireUser(users: UserDirectory, req: IncomingMessage, url: URL): DevUser {
  const token = tokenOf(req, url);
  if (!token) throw new Fault(401, "unauthorized", "Access denied. No authentication token");
  const user = users.byToken(token);
  const reason = user ? users.invalidReason(user) : "Invalid token";
  if (!user || reason !== undefined) {
    throw new Fault(
      401,
      "fault",
      "UNAUTHORIZED",
      JSON.stringify({ unauthorized: { code: 401, message: reason, details: "" } }),
    );
  }
  return user;
}
