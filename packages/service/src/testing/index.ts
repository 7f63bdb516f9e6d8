/** @module @icaas/service/testing — real-parts test helpers: a devcloud + service stack, PostgreSQL, seeding. */

export { SecretBox } from "../crypto.ts";
export { parseDatabaseUrl } from "../db/dialect.ts";
export { openStore, type Store } from "../db/store.ts";
export {
  actAsAgent,
  type DevcloudServer,
  devcloudServers,
  findServer,
  liveServers,
  manifestUrlOf,
  serverOfBuild,
  setFaults,
  vmDeleted,
} from "./devcloud-admin.ts";
export { type Harness, startHarness, testCloudConfig, USER_A, USER_B } from "./harness.ts";
export { call, type HttpAnswer, waitFor } from "./http.ts";
export { findPostgresBin, startPostgres, type TestPostgres } from "./postgres.ts";
export { type SeedOptions, seedBuilds } from "./seed.ts";
export {
  type CloudStack,
  type ServiceSettings,
  type Stack,
  type StackOptions,
  startCloudStack,
  startStack,
  TEST_SERVICE_SETTINGS,
} from "./stack.ts";
