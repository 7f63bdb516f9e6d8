/** @module main.test — the commands behind icaas-service: migrate, config, and configuration errors. */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { describeConfig, migrate, run } from "./main.ts";

const BASE = {
  ICAAS_AUTH_URL: "https://accounts.example.org/identity/v2.0",
  ICAAS_AGENT_IMAGE_ID: "img",
  ICAAS_AGENT_FLAVOR_ID: "1",
};

describe("icaas-service commands", () => {
  it("migrate creates the SQLite database and the key in the data dir", async () => {
    const dir = mkdtempSync(join(tmpdir(), "icaas-migrate-"));
    try {
      const lines: string[] = [];
      await migrate({ env: { ...BASE, ICAAS_DATA_DIR: dir }, print: (l) => lines.push(l) });
      assert.deepEqual(lines, ["icaas-service: sqlite database is up to date"]);
      assert.ok(existsSync(join(dir, "icaas.sqlite")));
      assert.ok(existsSync(join(dir, "secret.key")));
      await migrate({ env: { ...BASE, ICAAS_DATA_DIR: dir }, print: () => {} });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("config hides the key and the database password", () => {
    const shown = describeConfig({
      env: {
        ...BASE,
        ICAAS_ENCRYPTION_KEY: "c2VjcmV0",
        ICAAS_DATABASE_URL: "postgres://icaas:hunter2@db/icaas",
      },
    });
    assert.equal(shown.encryptionKey, "[set]");
    assert.equal(shown.databaseUrl, "postgres://icaas:***@db/icaas");
    assert.ok(!JSON.stringify(shown).includes("hunter2"));
  });

  it("turns a configuration error into its message and exit code 2", async () => {
    const lines: string[] = [];
    const before = process.exitCode;
    await run(
      async () => describeConfig({ env: { ICAAS_PORT: "x" } }),
      (l) => lines.push(l),
    );
    assert.equal(process.exitCode, 2);
    process.exitCode = before;
    assert.match(lines[0]!, /^icaas-service: invalid configuration:\n {2}- /);
    assert.match(lines[0]!, /authUrl is required/);
  });
});
