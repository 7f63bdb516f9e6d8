/** Tests of where the URL and the token come from, and that a broken config never shows the token. */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { defaultConfigFile, normalizeUrl, resolveConfig } from "./config.ts";
import { CliError, describeError, EXIT, exitCodeOf } from "./errors.ts";

const dir = mkdtempSync(join(tmpdir(), "icaas-cli-config-"));
const SECRET = "config-file-token-Zq81xx";

function file(name: string, text: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

function failure(fn: () => unknown): CliError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof CliError, String(error));
    return error;
  }
  assert.fail("no error");
}

describe("resolveConfig", () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("takes flags over ICAAS_* variables over the config file", () => {
    const path = file("full.json", JSON.stringify({ url: "http://file:1", token: "file-token" }));
    const env = { ICAAS_URL: "http://env:2", ICAAS_TOKEN: "env-token", ICAAS_CONFIG: path };
    assert.deepEqual(resolveConfig({ url: "http://flag:3", token: "flag-token", env }), {
      url: "http://flag:3",
      api: "http://flag:3/icaas",
      token: "flag-token",
      configFile: path,
    });
    const fromEnv = resolveConfig({ env });
    assert.equal(fromEnv.url, "http://env:2");
    assert.equal(fromEnv.token, "env-token");
    const fromFile = resolveConfig({ env: { ICAAS_CONFIG: path } });
    assert.equal(fromFile.url, "http://file:1");
    assert.equal(fromFile.token, "file-token");
  });

  it("reads ~/.config/icaas/config.json (or under XDG_CONFIG_HOME) by default", () => {
    const home = join(dir, "home");
    mkdirSync(join(home, ".config", "icaas"), { recursive: true });
    writeFileSync(
      join(home, ".config", "icaas", "config.json"),
      JSON.stringify({ url: "http://h:1", token: "t" }),
      {
        mode: 0o600,
      },
    );
    assert.equal(defaultConfigFile({ HOME: home }), join(home, ".config", "icaas", "config.json"));
    assert.equal(resolveConfig({ env: { HOME: home } }).url, "http://h:1");
    assert.equal(defaultConfigFile({ HOME: home, XDG_CONFIG_HOME: "/x" }), "/x/icaas/config.json");
  });

  it("accepts the API URL with /icaas and a trailing slash, keeps a path prefix", () => {
    assert.equal(normalizeUrl("http://127.0.0.1:8080/icaas/"), "http://127.0.0.1:8080");
    assert.equal(normalizeUrl("https://example.org/cloud/icaas"), "https://example.org/cloud");
    assert.equal(resolveConfig({ url: "http://a:1/", token: "t", env: {} }).api, "http://a:1/icaas");
  });

  it("refuses URLs that are not http(s) or hold credentials (usage, exit 2)", () => {
    for (const url of ["ftp://a/", "not a url", "http://user:pw@a/"]) {
      const e = failure(() => resolveConfig({ url, token: "t", env: {} }));
      assert.equal(e.exitCode, EXIT.usage, url);
    }
    assert.ok(!describeError(failure(() => normalizeUrl("http://user:pw@a/"))).includes("pw"));
  });

  it("says how to give a missing URL (exit 2) or token (exit 3)", () => {
    const env = { HOME: join(dir, "nobody") };
    const noUrl = failure(() => resolveConfig({ token: "t", env }));
    assert.equal(noUrl.exitCode, EXIT.usage);
    assert.match(describeError(noUrl), /no service URL\nhint: pass --url, set ICAAS_URL/);
    const noToken = failure(() => resolveConfig({ url: "http://a:1", env }));
    assert.equal(exitCodeOf(noToken), EXIT.auth);
    assert.match(
      describeError(noToken),
      /^error: no token \(token_missing\)\nhint: pass --token, set ICAAS_TOKEN/,
    );
  });

  it("never shows the config file's text when it is not valid JSON", () => {
    const path = file("broken.json", `{"url": "http://a:1", "token": "${SECRET}",}`);
    const e = failure(() => resolveConfig({ env: { ICAAS_CONFIG: path } }));
    assert.equal(e.exitCode, EXIT.usage);
    assert.match(e.message, /is not valid JSON/);
    assert.ok(!describeError(e).includes(SECRET));
    const wrongType = file("array.json", `["${SECRET}"]`);
    assert.ok(
      !describeError(failure(() => resolveConfig({ env: { ICAAS_CONFIG: wrongType } }))).includes(SECRET),
    );
  });

  it("fails on an explicitly named config file that is missing, not on a missing default one", () => {
    const e = failure(() =>
      resolveConfig({ configFile: join(dir, "nope.json"), url: "http://a:1", token: "t" }),
    );
    assert.match(e.message, /cannot read the config file .*nope\.json \(ENOENT\)/);
    assert.equal(
      resolveConfig({ url: "http://a:1", token: "t", env: { HOME: join(dir, "nobody") } }).token,
      "t",
    );
  });

  it("warns when a config file holding a token is readable by others, without showing it", () => {
    const path = file("open.json", JSON.stringify({ url: "http://a:1", token: SECRET }), 0o644);
    const warnings: string[] = [];
    resolveConfig({ env: { ICAAS_CONFIG: path }, warn: (w) => warnings.push(w) });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /others can read it \(chmod 600/);
    assert.ok(!warnings[0]!.includes(SECRET));
  });

  it("refuses a token a header cannot carry without echoing it (exit 3)", () => {
    const e = failure(() => resolveConfig({ url: "http://a:1", token: `${SECRET} x`, env: {} }));
    assert.equal(e.exitCode, EXIT.auth);
    assert.ok(!describeError(e).includes(SECRET));
  });
});
