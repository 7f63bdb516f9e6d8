/** @module config.test — configuration from file and env: types converted, defaults filled, errors clear. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigError, endpointOf, envName, loadConfig } from "./config.ts";

const REQUIRED = {
  ICAAS_AUTH_URL: "https://accounts.example.org/identity/v2.0",
  ICAAS_AGENT_IMAGE_ID: "img-1",
  ICAAS_AGENT_FLAVOR_ID: "3",
};

describe("config", () => {
  it("names env variables after keys", () => {
    assert.equal(envName("manifestTimeoutSeconds"), "ICAAS_MANIFEST_TIMEOUT_SECONDS");
    assert.equal(envName("databaseUrl"), "ICAAS_DATABASE_URL");
  });

  it("converts env values to the key's type and fills defaults", () => {
    const { config, warnings } = loadConfig({
      env: {
        ...REQUIRED,
        ICAAS_PORT: "9000",
        ICAAS_INSECURE: "yes",
        ICAAS_AGENT_NETWORKS: '[{"uuid":"net-1"}]',
        ICAAS_DATABASE_URL: "postgres://icaas@db/icaas",
        ICAAS_SOMETHING_ELSE: "x",
        ICAAS_URL: "belongs to the CLI",
      },
    });
    assert.equal(config.port, 9000);
    assert.equal(config.insecure, true);
    assert.deepEqual(config.agentNetworks, [{ uuid: "net-1" }]);
    assert.equal(config.manifestTimeoutSeconds, 1200);
    assert.equal(config.buildTimeoutSeconds, 7200);
    assert.equal(config.progressHeuristic, 6.75);
    assert.equal(config.databaseUrl, "postgres://icaas@db/icaas");
    assert.deepEqual(warnings, ["ignoring unknown environment variable ICAAS_SOMETHING_ELSE"]);
    assert.equal(endpointOf(config), "http://127.0.0.1:9000/icaas");
  });

  it("reads the file named by ICAAS_CONFIG; env wins over it", () => {
    const dir = mkdtempSync(join(tmpdir(), "icaas-config-"));
    try {
      const file = join(dir, "icaas.json");
      writeFileSync(
        file,
        JSON.stringify({
          authUrl: REQUIRED.ICAAS_AUTH_URL,
          agentImageId: "from-file",
          agentFlavorId: "1",
          publicUrl: "https://icaas.example.org",
          port: 8081,
        }),
      );
      const { config } = loadConfig({ env: { ICAAS_CONFIG: file, ICAAS_AGENT_IMAGE_ID: "from-env" } });
      assert.equal(config.agentImageId, "from-env");
      assert.equal(config.port, 8081);
      assert.equal(endpointOf(config), "https://icaas.example.org/icaas");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads the source policy: private allowed and nothing allow-listed by default, env lists comma-separated", () => {
    const defaults = loadConfig({ env: REQUIRED }).config;
    assert.equal(defaults.sourceAllowPrivate, true);
    assert.deepEqual(defaults.sourceAllowList, []);
    const { config } = loadConfig({
      env: {
        ...REQUIRED,
        ICAAS_SOURCE_ALLOW_PRIVATE: "false",
        ICAAS_SOURCE_ALLOW_LIST: "mirror.lan:8080, 10.0.0.0/8,[fd00::1]:80",
      },
    });
    assert.equal(config.sourceAllowPrivate, false);
    assert.deepEqual(config.sourceAllowList, ["mirror.lan:8080", "10.0.0.0/8", "[fd00::1]:80"]);
    const json = loadConfig({ env: { ...REQUIRED, ICAAS_SOURCE_ALLOW_LIST: '["127.0.0.1:9000"]' } });
    assert.deepEqual(json.config.sourceAllowList, ["127.0.0.1:9000"]);
    assert.throws(
      () => loadConfig({ env: { ...REQUIRED, ICAAS_SOURCE_ALLOW_LIST: "10.0.0.0/40,mirror:99999" } }),
      (error: ConfigError) =>
        error.problems.length === 2 &&
        error.problems.every(
          (p) => p.startsWith("sourceAllowList: '") && p.endsWith("(from env ICAAS_SOURCE_ALLOW_LIST)"),
        ),
    );
  });

  it("accepts the original service's env names (minutes become seconds)", () => {
    const { config } = loadConfig({
      env: {
        ICAAS_AUTH_URL: REQUIRED.ICAAS_AUTH_URL,
        ICAAS_AGENT_IMAGE_ID: "img",
        ICAAS_AGENT_IMAGE_FLAVOR_ID: "7",
        ICAAS_ENDPOINT: "https://old.example.org/icaas",
        ICAAS_MANIFEST_TIMEOUT: "20",
        ICAAS_AGENT_TIMEOUT: "60",
      },
    });
    assert.equal(config.agentFlavorId, "7");
    assert.equal(config.publicUrl, "https://old.example.org");
    assert.equal(config.manifestTimeoutSeconds, 1200);
    assert.equal(config.buildTimeoutSeconds, 3600);
  });

  it("lists every problem with where it came from and what was expected", () => {
    const dir = mkdtempSync(join(tmpdir(), "icaas-config-"));
    try {
      const file = join(dir, "bad.json");
      writeFileSync(file, JSON.stringify({ manifestTimeout: 5, logLevel: "loud" }));
      assert.throws(
        () =>
          loadConfig({
            env: {
              ICAAS_CONFIG: file,
              ICAAS_PORT: "eighty",
              ICAAS_INSECURE: "maybe",
              ICAAS_AUTH_URL: "accounts",
            },
          }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          const text = error.message;
          assert.match(text, /agentImageId is required \(set ICAAS_AGENT_IMAGE_ID/);
          assert.match(
            text,
            /port: expected an integer ≥ 0 and ≤ 65535, got "eighty" \(from env ICAAS_PORT\)/,
          );
          assert.match(text, /insecure: expected true or false, got "maybe"/);
          assert.match(text, /authUrl: expected an http\(s\) URL, got "accounts"/);
          assert.match(
            text,
            /unknown key 'manifestTimeout' \(from .*bad\.json\); did you mean 'manifestTimeoutSeconds'\?/,
          );
          assert.match(text, /logLevel: expected one of fatal, error, warn, info, debug, trace, silent/);
          return true;
        },
      );
      assert.throws(
        () => loadConfig({ env: { ICAAS_CONFIG: join(dir, "missing.json") } }),
        /missing\.json: cannot read it as JSON \(no such file\)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
