/** @module @icaas/service — the ICaaS REST API, its database, the agent VM lifecycle and the web UI host. */
export { buildApp } from "./app.ts";
export {
  ConfigError,
  type ConfigInput,
  ConfigSchema,
  endpointOf,
  envName,
  type LoadOptions,
  loadConfig,
  resolveConfig,
  type ServiceConfig,
} from "./config.ts";
export { ApiError, errors } from "./errors.ts";
export { describeConfig, migrate, start } from "./main.ts";
export { type RunningService, type StartOptions, startService } from "./service.ts";
