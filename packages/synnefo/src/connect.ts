/** @module connect — one call from a token to every client, with the endpoints from Astakos' catalog. */
import { AstakosClient, type AstakosUser } from "./astakos.ts";
import type { ServiceCatalog } from "./catalog.ts";
import { CycladesClient } from "./cyclades.ts";
import { PithosClient } from "./pithos.ts";
import { PlanktonClient } from "./plankton.ts";

export interface ConnectOptions {
  /** The identity endpoint, e.g. `https://accounts.example.org/identity/v2.0`. */
  authUrl: string;
  token: string;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
}

export interface Connection {
  user: AstakosUser;
  catalog: ServiceCatalog;
  cyclades: CycladesClient;
  pithos: PithosClient;
  plankton: PlanktonClient;
}

/**
 * Validates the token and builds the clients for its user, from the catalog's endpoints (kamaki's version
 * rule applied: an image URL published without a version gets `/v1.0`).
 *
 * @example
 * const { user, cyclades, pithos, plankton } = await connect({ authUrl, token });
 */
export async function connect(options: ConnectOptions): Promise<Connection> {
  const common = { timeoutMs: options.timeoutMs, retries: options.retries, backoffMs: options.backoffMs };
  const astakos = new AstakosClient({ authUrl: options.authUrl, ...common });
  const { user, catalog } = await astakos.authenticate(options.token);
  const token = options.token;
  return {
    user,
    catalog,
    cyclades: new CycladesClient({ computeUrl: catalog.endpoint("compute"), token, ...common }),
    pithos: new PithosClient({
      storageUrl: catalog.endpoint("object-store"),
      account: user.uuid,
      token,
      ...common,
    }),
    plankton: new PlanktonClient({ imageUrl: catalog.endpoint("image"), token, ...common }),
  };
}
