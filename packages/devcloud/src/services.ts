/** @module services — the Synnefo services a devcloud runs, in start order. */
import type { ServiceFactory } from "./context.ts";

/** Each entry builds one service module; Pithos comes before Plankton, which reads its objects. */
export const SERVICE_FACTORIES: ServiceFactory[] = [];
