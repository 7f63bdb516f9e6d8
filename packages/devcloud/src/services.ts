/** @module services — the Synnefo services a devcloud runs, in start order. */
import { accountService } from "./account/index.ts";
import { computeService } from "./compute/index.ts";
import type { ServiceFactory } from "./context.ts";
import { identityService } from "./identity/index.ts";
import { imageService } from "./image/index.ts";
import { objectStoreFactory } from "./object-store/index.ts";

/** Each entry builds one service module; Pithos comes before Plankton, which reads its objects. */
export const SERVICE_FACTORIES: ServiceFactory[] = [
  identityService,
  accountService,
  computeService,
  objectStoreFactory,
  imageService,
];
