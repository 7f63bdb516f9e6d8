/** @module @icaas/service/testing — real-parts test helpers: a devcloud + service harness, PostgreSQL, seeding. */

export { SecretBox } from "../crypto.ts";
export { parseDatabaseUrl } from "../db/dialect.ts";
export { openStore, type Store } from "../db/store.ts";
export {
  actAsAgent,
  call,
  type DevcloudServer,
  devcloudServers,
  findServer,
  type Harness,
  type HttpAnswer,
  liveServers,
  manifestUrlOf,
  serverOfBuild,
  startHarness,
  testCloudConfig,
  testServiceConfig,
  USER_A,
  USER_B,
  vmDeleted,
  waitFor,
} from "./harness.ts";
export { findPostgresBin, startPostgres, type TestPostgres } from "./postgres.ts";
export { type SeedOptions, seedBuilds } from "./seed.ts";
