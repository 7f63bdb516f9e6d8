/** @module context — what every devcloud service module is given, and what it gives back. */
import type { IncomingMessage } from "node:http";
import type { DevcloudConfig } from "./config.ts";
import type { Counters, Injection, ServiceName } from "./injection.ts";
import type { ReleaseProfile } from "./release.ts";
import type { Router } from "./router.ts";
import type { UserDirectory } from "./users.ts";

export interface DevcloudContext {
  config: DevcloudConfig;
  /** The Synnefo release being played (`config.synnefo`): routes, answers and catalog follow it. */
  release: ReleaseProfile;
  /** Root of the devcloud's persistent data; each service keeps its files in a folder of its own. */
  dataDir: string;
  /** The base URL clients reach the devcloud at, e.g. `http://127.0.0.1:41234` (known once listening). */
  publicUrl(): string;
  /** The base URL for the client of `req`: the guest-visible one when it came through it, else `publicUrl()`. */
  urlFor(req: IncomingMessage): string;
  users: UserDirectory;
  counters: Counters;
  injection: Injection;
  /** Other modules, by name, for the few cross-service calls (Plankton reads Pithos objects). */
  module<T extends ServiceModule>(name: ServiceName): T;
}

export interface ServiceModule {
  name: ServiceName;
  /** One or more routers, each for an API prefix (`/compute/v2.0`, …). */
  routers: Router[];
  /** Extra admin routes under `/_devcloud` (e.g. `POST /_devcloud/servers/:id/kill`). */
  admin?: Router;
  /** Loads persisted state before the server listens. */
  start?(): Promise<void>;
  /** Stops children and flushes state. */
  close?(): Promise<void>;
}

export type ServiceFactory = (ctx: DevcloudContext) => ServiceModule;
