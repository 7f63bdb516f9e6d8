import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CycladesClient, PithosClient } from "@icaas/synnefo";
import { AGENT_IMAGE_ID, type DevcloudConfig, defaultConfig } from "../config.ts";
import type { Devcloud } from "../server.ts";
import { startTempDevcloud } from "../testing.ts";
import { UNLIMITED } from "./quotas.ts";

const USER = {
  uuid: "aaaaaaaa-0000-4000-8000-000000000001",
  token: "acct-token-0123456789abcdefghijklmnopqr",
  name: "a@example.org",
};
const PROJECT = "bbbbbbbb-0000-4000-8000-000000000002";

let cloud: Devcloud;

before(async () => {
  const config: DevcloudConfig = {
    ...defaultConfig(),
    users: [
      {
        ...USER,
        projects: [PROJECT],
        quotas: { vms: 3, cpu: 8, ramMiB: 4096, diskGiB: 100, diskspaceBytes: 5 * 2 ** 30 },
      },
      { uuid: "u-off", name: "off@example.org", token: "tok-off", active: false },
    ],
    bootSeconds: 0.05,
  };
  cloud = await startTempDevcloud("devcloud-account-", { config });
});

after(async () => {
  await cloud.close();
});

async function get(path: string, token?: string) {
  const res = await fetch(`${cloud.url}/account/v1.0${path}`, {
    headers: token ? { "x-auth-token": token } : {},
  });
  return { status: res.status, text: await res.text() };
}

describe("GET /account/v1.0/quotas", () => {
  it("shows every project of the user with its limits and the live usage of its VMs", async () => {
    const cyclades = new CycladesClient({ computeUrl: `${cloud.url}/compute/v2.0`, token: USER.token });
    const inSystem = await cyclades.createServer({ name: "a", imageRef: AGENT_IMAGE_ID, flavorRef: 2 });
    await cyclades.createServer({ name: "b", imageRef: AGENT_IMAGE_ID, flavorRef: 1, project: PROJECT });
    await cyclades.waitForStatus(inSystem.id, ["ACTIVE"], { intervalMs: 20 });
    await cyclades.action(inSystem.id, { shutdown: {} });

    const pithos = new PithosClient({
      storageUrl: `${cloud.url}/object-store/v1`,
      account: USER.uuid,
      token: USER.token,
    });
    await pithos.createContainer("mine");
    await pithos.createContainer("theirs", { project: PROJECT });
    await pithos.putObject("mine", "a", Buffer.alloc(1000, 1));
    await pithos.putObject("theirs", "b", Buffer.alloc(300, 1));

    const res = await get("/quotas", USER.token);
    assert.equal(res.status, 200);
    const quotas = JSON.parse(res.text);
    assert.deepEqual(Object.keys(quotas).sort(), [USER.uuid, PROJECT].sort());
    const system = quotas[USER.uuid];
    assert.deepEqual(system["cyclades.vm"], {
      limit: 3,
      usage: 1,
      pending: 0,
      project_limit: 3,
      project_usage: 1,
      project_pending: 0,
    });
    // A stopped VM keeps its disk but gives back CPU and RAM.
    assert.equal(system["cyclades.cpu"].usage, 0);
    assert.equal(system["cyclades.ram"].usage, 0);
    assert.equal(system["cyclades.disk"].usage, 40 * 2 ** 30);
    assert.equal(system["cyclades.disk"].limit, 100 * 2 ** 30);
    assert.equal(system["cyclades.ram"].limit, 4096 * 2 ** 20);
    assert.equal(system["pithos.diskspace"].limit, 5 * 2 ** 30);
    assert.equal(system["pithos.diskspace"].usage, 1000);
    assert.equal(quotas[PROJECT]["pithos.diskspace"].usage, 300);
    assert.equal(system["cyclades.floating_ip"].limit, UNLIMITED);
    const project = quotas[PROJECT];
    assert.equal(project["cyclades.vm"].usage, 1);
    assert.equal(project["cyclades.cpu"].usage, 1);
    assert.equal(project["cyclades.ram"].usage, 1024 * 2 ** 20);
    assert.deepEqual(Object.keys(system).sort(), [
      "cyclades.cpu",
      "cyclades.disk",
      "cyclades.floating_ip",
      "cyclades.network.private",
      "cyclades.ram",
      "cyclades.vm",
      "pithos.diskspace",
    ]);
  });

  it("answers Astakos' own 401s: no token, unknown token, inactive user", async () => {
    const fault = (message: string) => JSON.stringify({ unauthorized: { code: 401, message, details: "" } });
    assert.deepEqual(await get("/quotas"), {
      status: 401,
      text: fault("Access denied. No authentication token"),
    });
    assert.deepEqual(await get("/quotas", "nope"), { status: 401, text: fault("Invalid X-Auth-Token") });
    assert.deepEqual(await get("/quotas", "tok-off"), { status: 401, text: fault("User inactive") });
  });
});

describe("account API strays", () => {
  it("answers unknown paths with 400 and wrong methods with 405", async () => {
    const stray = await get("/projects-of-mars", USER.token);
    assert.deepEqual(stray, {
      status: 400,
      text: JSON.stringify({ badRequest: { code: 400, message: "API endpoint not found", details: "" } }),
    });
    const wrong = await fetch(`${cloud.url}/account/v1.0/quotas`, { method: "DELETE" });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get("allow"), "GET");
    await wrong.arrayBuffer();
  });
});

describe("GET /account/v1.0/resources", () => {
  it("describes the resources without a token", async () => {
    const res = await get("/resources");
    assert.equal(res.status, 200);
    const resources = JSON.parse(res.text);
    assert.deepEqual(resources["pithos.diskspace"], {
      service: "pithos_object-store",
      description: "Pithos account diskspace",
      unit: "bytes",
      ui_visible: true,
      api_visible: true,
    });
    assert.equal(resources["cyclades.vm"].unit, null);
  });
});

describe("POST /account/v1.0/user_catalogs", () => {
  const post = async (body: string, token = USER.token) => {
    const res = await fetch(`${cloud.url}/account/v1.0/user_catalogs`, {
      method: "POST",
      headers: { "x-auth-token": token, "content-type": "application/json" },
      body,
    });
    return { status: res.status, text: await res.text() };
  };

  it("maps uuids to display names and back, skipping unknown ones", async () => {
    const res = await post(
      JSON.stringify({ uuids: [USER.uuid, "ghost"], displaynames: ["off@example.org", "nobody"] }),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.text), {
      uuid_catalog: { [USER.uuid]: USER.name },
      displayname_catalog: { "off@example.org": "u-off" },
    });
  });

  it("refuses bodies Astakos refuses", async () => {
    const bad = (message: string) => JSON.stringify({ badRequest: { code: 400, message, details: "" } });
    assert.deepEqual(await post("{x"), { status: 400, text: bad("Request body should be json formatted.") });
    assert.deepEqual(await post("[1]"), {
      status: 400,
      text: bad("Request body should be a json formatted dictionary"),
    });
    assert.deepEqual(await post(JSON.stringify({ displaynames: [1] })), {
      status: 400,
      text: bad("Items in 'displaynames' must be strings"),
    });
    assert.equal((await post("{}", "nope")).status, 401);
  });
});
