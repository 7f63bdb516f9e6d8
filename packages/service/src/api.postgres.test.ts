/** @module api.postgres.test — the API acceptance suite on a real PostgreSQL started for it. */
import { defineApiSuite } from "./testing/api-suite.ts";
import { startPostgres, type TestPostgres } from "./testing/postgres.ts";

let server: TestPostgres | undefined;

defineApiSuite("PostgreSQL", {
  newDatabase: async () => {
    server ??= await startPostgres();
    return server.createDatabase();
  },
  teardown: async () => server?.stop(),
});
