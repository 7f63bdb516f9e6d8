/** @module @icaas/demo — the ICaaS demo: devcloud, service, agent and a sample image on loopback. */
export { type Demo, type DemoOptions, startDemo } from "./demo.ts";
export { type Sample, serveSample } from "./sample.ts";
