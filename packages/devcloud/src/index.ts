/** @module @icaas/devcloud — a Synnefo-compatible cloud on one port, for development, demos and tests. */

export { accountService, type UsageSource } from "./account/index.ts";
export {
  type ComputeModule,
  type ComputeUsage,
  computeService,
  type ServerRecord,
  type VmProcess,
} from "./compute/index.ts";
export {
  AGENT_IMAGE_ID,
  type AgentCommand,
  DEMO_TOKEN,
  DEMO_USER_UUID,
  type DevcloudConfig,
  type DevFlavor,
  type DevImage,
  type DevUser,
  defaultConfig,
  loadConfig,
} from "./config.ts";
export type { DevcloudContext, ServiceFactory, ServiceModule } from "./context.ts";
export { identityService, serviceCatalog } from "./identity/index.ts";
export { type ImageModule, imageService, type PlanktonImage } from "./image/index.ts";
export type { FaultSettings, ServiceFaults, ServiceName } from "./injection.ts";
export { type ObjectStoreModule, objectStoreFactory, type StoredObject } from "./object-store/index.ts";
export {
  type ReleaseProfile,
  releaseProfile,
  STRICTEST_RELEASE,
  SYNNEFO_RELEASES,
  type SynnefoRelease,
} from "./release.ts";
export { type Devcloud, type DevcloudOptions, startDevcloud } from "./server.ts";
