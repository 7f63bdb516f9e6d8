/** @module @icaas/agent/testing — helpers for tests of the agent and of whole builds. */
export { AGENT_CLI, agentBundleCommand, agentCommand, e2eAgentCommand, VM_ROOT } from "./agent-command.ts";
export { type BitnamiZip, makeBitnamiZip } from "./bitnami-zip.ts";
export {
  LOOPBACK_SOURCE_POLICY,
  type SourceFile,
  type SourceRequest,
  type SourceServer,
  startSourceServer,
} from "./source-server.ts";
