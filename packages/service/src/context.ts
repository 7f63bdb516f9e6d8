/** @module context — what the routes, jobs and sweeper of one service instance share. */
import type { Authenticator, AuthUser } from "./auth/authenticator.ts";
import type { RateLimiter } from "./auth/rate-limiter.ts";
import type { PageCache } from "./builds/page-cache.ts";
import type { ServiceConfig } from "./config.ts";
import type { SecretBox } from "./crypto.ts";
import type { Store } from "./db/store.ts";
import type { Metrics } from "./metrics.ts";

export interface ServiceContext {
  config: ServiceConfig;
  /** `<publicUrl>/icaas`; known once the server listens when the port was 0. */
  endpoint: string;
  store: Store;
  box: SecretBox;
  auth: Authenticator;
  requestLimiter: RateLimiter;
  createLimiter: RateLimiter;
  metrics: Metrics;
  /** Rendered list pages (see builds/page-cache.ts). */
  pages: PageCache;
  /** Tells the job runner there is new work (no-op when jobs run elsewhere). */
  wakeJobs(): void;
  startedAt: number;
  version: string;
}

declare module "fastify" {
  interface FastifyRequest {
    /** The authenticated user of a user route. */
    user: AuthUser | null;
    /** The user's token, needed to create the build's VM; never logged. */
    userToken: string | null;
  }
}

/** Purposes bound into sealed values, so one kind cannot be read back as another. */
export const SEAL = { userToken: "user-token", nonce: "manifest-nonce" } as const;
