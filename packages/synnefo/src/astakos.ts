/** @module astakos — token validation and the public service catalog, through `POST {identity}/tokens`. */
import { type CatalogEntry, ServiceCatalog } from "./catalog.ts";
import { SynnefoError } from "./errors.ts";
import { HttpClient } from "./http.ts";

/** The user a token belongs to, as Synnefo's own services read it from the tokens answer. */
export interface AstakosUser {
  uuid: string;
  name: string;
  /** Accepted memberships in active projects (includes the system project, whose id is the uuid). */
  projects: string[];
  /** `token.tenant.id`: where a VM or container is charged when no project is given. */
  defaultProject: string;
  /** ISO time the token expires. */
  expires: string;
}

export interface AstakosClientOptions {
  /** The identity endpoint, e.g. `https://accounts.example.org/identity/v2.0`. */
  authUrl: string;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
}

interface AccessDocument {
  access?: {
    token?: { id?: string; expires?: string; tenant?: { id?: string; name?: string } };
    user?: { id?: string; name?: string; projects?: string[] };
    serviceCatalog?: CatalogEntry[];
  };
}

/**
 * Talks to Astakos the way Cyclades, Pithos and Plankton do: one `POST /tokens` per validation.
 *
 * @example
 * const astakos = new AstakosClient({ authUrl: "https://accounts.example.org/identity/v2.0" });
 * const { user, catalog } = await astakos.authenticate(token);
 * catalog.endpoint("compute");
 */
export class AstakosClient {
  readonly authUrl: string;
  readonly #http: HttpClient;

  constructor(options: AstakosClientOptions) {
    this.authUrl = options.authUrl.replace(/\/+$/, "");
    this.#http = new HttpClient({
      baseUrl: this.authUrl,
      service: "identity",
      timeoutMs: options.timeoutMs,
      retries: options.retries,
      backoffMs: options.backoffMs,
    });
  }

  /** Validates a user token. An unknown, expired or inactive one rejects with a `SynnefoError` of status 401. */
  async authenticate(token: string): Promise<{ user: AstakosUser; catalog: ServiceCatalog }> {
    if (!token) {
      throw new SynnefoError({
        status: 401,
        code: "unauthorized",
        message: "no token given",
        service: "identity",
        request: "POST /tokens",
      });
    }
    const { data } = await this.#http.json<AccessDocument>({
      method: "POST",
      path: "/tokens",
      json: { auth: { token: { id: token } } },
      // Validating a token changes nothing on the server, so sending it again is safe.
      idempotent: true,
    });
    const access = data?.access;
    const uuid = access?.user?.id;
    if (!access || typeof uuid !== "string") throw invalidAnswer("the tokens answer has no user");
    const user: AstakosUser = {
      uuid,
      name: access.user?.name ?? "",
      projects: Array.isArray(access.user?.projects) ? access.user.projects : [uuid],
      defaultProject: access.token?.tenant?.id ?? uuid,
      expires: access.token?.expires ?? "",
    };
    return { user, catalog: new ServiceCatalog(access.serviceCatalog ?? []) };
  }

  /** The service catalog, from the public (empty-body) form of the call; needs no token. */
  async catalog(): Promise<ServiceCatalog> {
    const { data } = await this.#http.json<AccessDocument>({
      method: "POST",
      path: "/tokens",
      idempotent: true,
    });
    const entries = data?.access?.serviceCatalog;
    if (!Array.isArray(entries)) throw invalidAnswer("the tokens answer has no serviceCatalog");
    return new ServiceCatalog(entries);
  }
}

function invalidAnswer(message: string): SynnefoError {
  return new SynnefoError({
    status: 200,
    code: "invalidResponse",
    message,
    service: "identity",
    request: "POST /tokens",
  });
}
