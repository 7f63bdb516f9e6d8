/** @module identity — Astakos' identity API (`/identity/v2.0`): tokens and the service catalog. */
import type { DevcloudContext, ServiceModule } from "../context.ts";
import { Router } from "../router.ts";
import { tokensHandler } from "./tokens.ts";

export { type CatalogEntry, serviceCatalog } from "./catalog.ts";

export function identityService(ctx: DevcloudContext): ServiceModule {
  const router = new Router("/identity/v2.0").add("POST", "/tokens", tokensHandler(ctx));
  return { name: "identity", routers: [router] };
}
