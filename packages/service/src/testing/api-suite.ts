/** @module testing/api-suite — the API acceptance tests, run once per database dialect; one file per area in api-suite/. */
import { after, before, describe } from "node:test";
import { agentSide } from "./api-suite/agent-side.ts";
import { authentication } from "./api-suite/authentication.ts";
import { cancelingAndDeleting } from "./api-suite/cancel-delete.ts";
import { creating } from "./api-suite/create.ts";
import { listing } from "./api-suite/list.ts";
import { operations } from "./api-suite/operations.ts";
import { runSuiteOn } from "./api-suite/suite.ts";
import { timeoutsAndQuotas } from "./api-suite/timeouts-quotas.ts";
import { type Harness, liveServers, startHarness, waitFor } from "./index.ts";

export interface SuiteOptions {
  /** A fresh, empty database for each call (undefined: SQLite in the instance's data dir). */
  newDatabase(): Promise<string | undefined>;
  /** Stops the database server, if any, after the suite. */
  teardown?(): Promise<void>;
}

/** Defines every API test against a fresh devcloud + service on the given database. */
export function defineApiSuite(dialect: string, options: SuiteOptions): void {
  describe(`ICaaS API on ${dialect}`, () => {
    let h: Harness | undefined;

    before(async () => {
      h = await startHarness({ databaseUrl: await options.newDatabase() });
      runSuiteOn(h, () => options.newDatabase());
    });

    after(async () => {
      if (!h) return options.teardown?.();
      const cloud = h.cloud;
      try {
        // No test may leave a VM behind.
        await waitFor("every VM to be deleted", async () => (await liveServers(cloud)).length === 0, 15_000);
      } finally {
        await h.close();
        await options.teardown?.();
      }
    });

    authentication();
    creating(dialect);
    listing();
    cancelingAndDeleting();
    agentSide();
    timeoutsAndQuotas();
    operations();
  });
}
