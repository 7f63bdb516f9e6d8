/** @module stack — the browser suite's stack: a devcloud whose VMs run the real agent, and the service serving the built UI. */
import { agentCommand } from "@icaas/agent/testing";
import { DEMO_TOKEN } from "@icaas/devcloud";
import { type Stack, startStack, TEST_SERVICE_SETTINGS } from "@icaas/service/testing";

export { DEMO_TOKEN };

/** A second user whose VM quota is 0: each of their builds fails at once, with Cyclades' 413. */
export const NO_VM_USER = {
  uuid: "3f6b8a2e-0c1d-4e5f-9a7b-1c2d3e4f5a6b",
  name: "no-vms@example.org",
  token: "no-vm-token-0123456789abcdefghijklmnopqrs",
  quotas: { vms: 0 },
};

/**
 * Starts a devcloud (demo user, the real agent in each VM) and the service on SQLite with the built
 * UI in `webDir`, as the demo does; `close()` stops both and removes their data.
 */
export function startBrowserStack(webDir: string): Promise<Stack> {
  return startStack({
    tempPrefix: "icaas-browser-",
    users: [NO_VM_USER],
    agent: agentCommand(),
    service: {
      ...TEST_SERVICE_SETTINGS,
      webDir,
      demo: true,
      demoTokenHint: "The demo token is printed in the terminal running the demo (npm run demo).",
      // Every request asks Astakos, so an Astakos outage shows at once (the server-error test).
      authCacheSeconds: 0,
      progressIntervalSeconds: 1,
      jobPollMs: 100,
      sweeperIntervalMs: 2000,
      logLevel: "warn",
    },
  });
}
