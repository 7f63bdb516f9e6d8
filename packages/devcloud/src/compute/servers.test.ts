import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CycladesClient, isServerDeletedError, personalityFile, SynnefoError } from "@icaas/synnefo";
import { AGENT_IMAGE_ID, DEMO_TOKEN, DEMO_USER_UUID, type DevcloudConfig, defaultConfig } from "../config.ts";
import type { Devcloud } from "../server.ts";
import { startTempDevcloud } from "../testing.ts";

const OTHER = {
  uuid: "22222222-3333-4444-5555-666666666666",
  token: "other-token-0123456789abcdefghijklmnopq",
};
const LIMITED = {
  uuid: "33333333-4444-5555-6666-777777777777",
  token: "limited-token-0123456789abcdefghijklmno",
};
const CPU_LIMITED = {
  uuid: "44444444-5555-6666-7777-888888888888",
  token: "cpu-token-0123456789abcdefghijklmnopqrs",
};
const NET = "net-1";

let cloud: Devcloud;

before(async () => {
  const base = defaultConfig();
  const config: DevcloudConfig = {
    ...base,
    users: [
      ...base.users,
      { uuid: OTHER.uuid, name: "other@example.org", token: OTHER.token },
      { uuid: LIMITED.uuid, name: "limited@example.org", token: LIMITED.token, quotas: { vms: 1, cpu: 2 } },
      {
        uuid: CPU_LIMITED.uuid,
        name: "cpu@example.org",
        token: CPU_LIMITED.token,
        quotas: { vms: 5, cpu: 2 },
      },
    ],
    networks: [NET],
    // The window in which tests see a server in BUILD (and its 409s): it must outlast a create plus one
    // more request on a loaded 2-core machine, where 0.1 s did not (they then saw it ACTIVE).
    bootSeconds: 0.5,
  };
  cloud = await startTempDevcloud("devcloud-servers-", { config });
});

after(async () => {
  await cloud.close();
});

const compute = (token = DEMO_TOKEN) =>
  new CycladesClient({ computeUrl: `${cloud.url}/compute/v2.0`, token, retries: 0 });

/** Cyclades refuses to delete a server whose create job still runs (409): wait until it is built. */
async function deleteBuilt(client: CycladesClient, id: string): Promise<void> {
  await client.waitForStatus(id, ["ACTIVE"], { intervalMs: 20, timeoutMs: 10_000 });
  await client.deleteServer(id);
}

async function api(method: string, path: string, body?: unknown, token: string | null = DEMO_TOKEN) {
  const headers: Record<string, string> = {};
  if (token !== null) headers["x-auth-token"] = token;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${cloud.url}/compute/v2.0${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

const fault = (name: string, code: number, message: string, details = "") =>
  JSON.stringify({ [name]: { code, message, details } });

const valid = (extra: Record<string, unknown> = {}) => ({
  server: { name: "vm", imageRef: AGENT_IMAGE_ID, flavorRef: 1, ...extra },
});

describe("POST /servers", () => {
  it("answers 202 with the full server in BUILD and a strong adminPass, then boots to ACTIVE", async () => {
    const res = await api("POST", "/servers", valid({ metadata: { OS: "debian" } }));
    assert.equal(res.status, 202);
    const server = res.json.server;
    assert.equal(server.status, "BUILD");
    assert.equal(server["SNF:task_state"], "BUILDING");
    assert.match(server.adminPass, /^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)[A-Za-z\d]{10}$/);
    assert.equal(typeof server.id, "number");
    assert.equal(server.user_id, DEMO_USER_UUID);
    assert.equal(server.tenant_id, DEMO_USER_UUID);
    assert.deepEqual(server.metadata, { OS: "debian" });
    assert.deepEqual(server.flavor.id, 1);
    assert.equal(server.image.id, AGENT_IMAGE_ID);
    assert.match(server.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
    assert.deepEqual(server.links[0], {
      rel: "self",
      href: `${cloud.url}/compute/v2.0/servers/${server.id}`,
    });
    assert.equal(server.deleted, false);
    assert.deepEqual(
      server.attachments.map((a: { network_id: string }) => a.network_id),
      [NET],
    );
    for (const key of [
      "SNF:fqdn",
      "SNF:port_forwarding",
      "security_groups",
      "volumes",
      "addresses",
      "hostId",
    ])
      assert.ok(key in server, key);
    const active = await compute().waitForStatus(String(server.id), ["ACTIVE"], {
      intervalMs: 30,
      timeoutMs: 5000,
    });
    assert.equal(active.status, "ACTIVE");
    assert.equal((active.raw as { progress: number }).progress, 100);
    const again = await api("GET", `/servers/${server.id}`);
    assert.equal(again.json.server.adminPass, undefined, "adminPass is shown only once");
  });

  const malformed: [string, unknown][] = [
    ["no server key", { name: "x" }],
    ["no name", { server: { imageRef: AGENT_IMAGE_ID, flavorRef: 1 } }],
    ["no imageRef", { server: { name: "x", flavorRef: 1 } }],
    ["no flavorRef", { server: { name: "x", imageRef: AGENT_IMAGE_ID } }],
    ["metadata that is a list", valid({ metadata: ["a"] })],
    ["personality that is an object", valid({ personality: {} })],
    ["networks that is a string", valid({ networks: "net" })],
    ["tags that is a string", valid({ tags: "t" })],
  ];
  for (const [what, body] of malformed) {
    it(`refuses ${what} with 400 "Malformed request"`, async () => {
      const res = await api("POST", "/servers", body);
      assert.equal(res.status, 400);
      assert.equal(res.text, fault("badRequest", 400, "Malformed request"));
    });
  }

  it("refuses bodies that are not JSON", async () => {
    const res = await api("POST", "/servers", "{oops");
    assert.equal(res.text, fault("badRequest", 400, "Could not decode request body as JSON"));
  });

  it("limits personality: more than 5 files → 413, a file over 10240 → 413, unknown keys → 400", async () => {
    const file = { path: "/a", contents: Buffer.from("x").toString("base64") };
    let res = await api("POST", "/servers", valid({ personality: Array(6).fill(file) }));
    assert.equal(res.status, 413);
    assert.equal(res.text, fault("overLimit", 413, "Maximum number of personalities exceeded"));
    res = await api(
      "POST",
      "/servers",
      valid({ personality: [{ path: "/a", contents: "A".repeat(10244) }] }),
    );
    assert.equal(res.status, 413);
    assert.equal(res.text, fault("overLimit", 413, "Maximum size of personality exceeded"));
    res = await api("POST", "/servers", valid({ personality: [{ ...file, color: "red" }] }));
    assert.equal(res.status, 400);
    assert.equal(res.text, fault("badRequest", 400, "Malformed personality in request"));
    res = await api(
      "POST",
      "/servers",
      valid({ personality: [{ path: "/a", contents: "A".repeat(10240) }] }),
    );
    assert.equal(res.status, 202, "exactly 10240 base64 characters are allowed");
  });

  it("checks flavors: a bad id is 400, an unknown one 404", async () => {
    let res = await api("POST", "/servers", valid({ flavorRef: "abc" }));
    assert.equal(res.text, fault("badRequest", 400, "Invalid flavor ID 'abc'"));
    res = await api("POST", "/servers", valid({ flavorRef: 999 }));
    assert.equal(res.status, 404);
    assert.equal(res.text, fault("itemNotFound", 404, "Flavor not found."));
    res = await api("POST", "/servers", valid({ flavorRef: "2" }));
    assert.equal(res.status, 202, "a numeric string is a flavor id");
  });

  it("answers an unknown image with 404 \"Image '<id>' not found\"", async () => {
    const res = await api("POST", "/servers", valid({ imageRef: "no-such-image" }));
    assert.equal(res.status, 404);
    assert.equal(res.text, fault("itemNotFound", 404, "Image 'no-such-image' not found"));
  });

  it("refuses a project the user is not a member of", async () => {
    const res = await api("POST", "/servers", valid({ project: OTHER.uuid }));
    assert.equal(res.status, 400);
    assert.equal(res.text, fault("badRequest", 400, `User ${DEMO_USER_UUID} not in project ${OTHER.uuid}`));
  });

  it("checks metadata, adminPass, user_data and networks", async () => {
    const many = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, "v"]));
    let res = await api("POST", "/servers", valid({ metadata: many }));
    assert.equal(
      res.text,
      fault("badRequest", 400, "Virtual Machines cannot have more than 10 metadata items"),
    );
    res = await api("POST", "/servers", valid({ metadata: { ["k".repeat(51)]: "v" } }));
    assert.equal(res.text, fault("badRequest", 400, "Metadata key is too long"));
    res = await api("POST", "/servers", valid({ adminPass: "weak" }));
    assert.equal(res.status, 400);
    assert.match(res.json.badRequest.message, /^Password not strong/);
    res = await api("POST", "/servers", valid({ user_data: "not base64!" }));
    assert.equal(res.text, fault("badRequest", 400, "Marformed user_data request"));
    res = await api("POST", "/servers", valid({ networks: [{ uuid: "net-404" }] }));
    assert.equal(res.text, fault("itemNotFound", 404, "Network net-404 not found."));
    res = await api("POST", "/servers", valid({ networks: [] }));
    assert.equal(res.status, 202);
    assert.deepEqual(res.json.server.attachments, []);
  });

  it("refuses a VM over quota with 413 overLimit and Astakos' exact words", async () => {
    const limited = compute(LIMITED.token);
    const first = await limited.createServer({ name: "one", imageRef: AGENT_IMAGE_ID, flavorRef: 1 });
    const res = await api("POST", "/servers", valid(), LIMITED.token);
    assert.equal(res.status, 413);
    assert.equal(
      res.text,
      fault(
        "overLimit",
        413,
        "Resource Limit Exceeded for your account.",
        "Limit for resource 'Virtual Machine' exceeded for your account. Available: 0, Requested: 1",
      ),
    );
    await deleteBuilt(limited, first.id);
    // The deleted VM no longer counts; its 2 vCPUs fill the CPU quota, which is checked too.
    const second = await limited.createServer({ name: "two", imageRef: AGENT_IMAGE_ID, flavorRef: 2 });
    assert.equal(second.status, "BUILD");
    await deleteBuilt(limited, second.id);
  });

  it("checks the CPU quota after the VM quota, in CPUs", async () => {
    const cpu = compute(CPU_LIMITED.token);
    const big = await cpu.createServer({ name: "big", imageRef: AGENT_IMAGE_ID, flavorRef: 2 });
    await assert.rejects(cpu.createServer({ name: "more", imageRef: AGENT_IMAGE_ID, flavorRef: 1 }), {
      status: 413,
      code: "overLimit",
      details: "Limit for resource 'CPU' exceeded for your account. Available: 0, Requested: 1",
    });
    await deleteBuilt(cpu, big.id);
  });
});

describe("GET, list and DELETE /servers", () => {
  it("hides other users' servers (404), refuses non-integer ids (400), 404s unknown ones", async () => {
    const mine = await compute().createServer({ name: "mine", imageRef: AGENT_IMAGE_ID, flavorRef: 1 });
    let res = await api("GET", `/servers/${mine.id}`, undefined, OTHER.token);
    assert.equal(res.status, 404);
    assert.equal(res.text, fault("itemNotFound", 404, "Server not found."));
    res = await api("DELETE", `/servers/${mine.id}`, undefined, OTHER.token);
    assert.equal(res.status, 404);
    res = await api("GET", "/servers/abc");
    assert.equal(res.text, fault("badRequest", 400, "Invalid server ID."));
    res = await api("GET", "/servers/987654");
    assert.equal(res.text, fault("itemNotFound", 404, "Server not found."));
    const others = await compute(OTHER.token).listServers();
    assert.ok(!others.some((s) => s.id === mine.id));
  });

  it("refuses with 409 while building, deletes with 204, then shows DELETED; a second delete is 400, an unknown one 404", async () => {
    const cyclades = compute();
    const before = (await (await fetch(`${cloud.url}/_devcloud/counters`)).json()) as Record<string, number>;
    const server = await cyclades.createServer({ name: "gone", imageRef: AGENT_IMAGE_ID, flavorRef: 1 });
    const building = await api("DELETE", `/servers/${server.id}`);
    assert.equal(building.text, fault("buildInProgress", 409, "Server is being build"));
    assert.equal((await cyclades.getServer(server.id)).status, "BUILD");
    await cyclades.waitForStatus(server.id, ["ACTIVE"], { intervalMs: 20 });
    const res = await api("DELETE", `/servers/${server.id}`);
    assert.equal(res.status, 204);
    assert.equal(res.text, "");
    const shown = await cyclades.getServer(server.id);
    assert.equal(shown.status, "DELETED");
    assert.equal((shown.raw as { deleted: boolean }).deleted, true);
    const second = await api("DELETE", `/servers/${server.id}`);
    assert.equal(second.status, 400);
    assert.equal(second.text, fault("badRequest", 400, "Server has been deleted."));
    await assert.rejects(cyclades.deleteServer(server.id), (e) => isServerDeletedError(e));
    assert.equal((await api("DELETE", "/servers/987654")).status, 404);
    const counters = (await (await fetch(`${cloud.url}/_devcloud/counters`)).json()) as Record<
      string,
      number
    >;
    assert.equal((counters["compute.serversCreated"] ?? 0) - (before["compute.serversCreated"] ?? 0), 1);
    assert.equal((counters["compute.serversDeleted"] ?? 0) - (before["compute.serversDeleted"] ?? 0), 1);
  });

  it("lists without deleted servers, and with them since `changes-since`; 304 when nothing changed", async () => {
    const cyclades = compute(OTHER.token);
    const start = new Date(Date.now() - 1000).toISOString();
    const kept = await cyclades.createServer({ name: "kept", imageRef: AGENT_IMAGE_ID, flavorRef: 1 });
    const dropped = await cyclades.createServer({ name: "dropped", imageRef: AGENT_IMAGE_ID, flavorRef: 1 });
    await deleteBuilt(cyclades, dropped.id);
    const list = await cyclades.listServers();
    assert.deepEqual(
      list.map((s) => s.id),
      [kept.id],
    );
    const short = await api("GET", "/servers", undefined, OTHER.token);
    assert.deepEqual(Object.keys(short.json.servers[0]), ["id", "name", "links"]);
    const detail = await cyclades.listServers({ detail: true });
    assert.equal(detail[0]?.userId, OTHER.uuid);
    // Each VM boots on its own; `dropped` being ACTIVE says nothing about `kept`. Wait for it, so the
    // list below and the expected status are read from the same, settled state.
    await cyclades.waitForStatus(kept.id, ["ACTIVE"], { intervalMs: 30 });
    const since = await cyclades.listServers({ detail: true, changesSince: start });
    assert.deepEqual(
      since.map((s) => [s.id, s.status]).sort(),
      [
        [dropped.id, "DELETED"],
        [kept.id, "ACTIVE"],
      ].sort(),
    );
    await new Promise((r) => setTimeout(r, 20));
    const nothing = await api(
      "GET",
      `/servers?changes-since=${encodeURIComponent(new Date().toISOString())}`,
      undefined,
      OTHER.token,
    );
    assert.equal(nothing.status, 304);
    assert.deepEqual(await cyclades.listServers({ changesSince: new Date().toISOString() }), []);
    const bad = await api("GET", "/servers?changes-since=yesterday-ish", undefined, OTHER.token);
    assert.equal(bad.text, fault("badRequest", 400, "Invalid changes-since parameter."));
    const old = await api(
      "GET",
      `/servers?changes-since=${new Date(Date.now() - 7200_000).toISOString()}`,
      undefined,
      OTHER.token,
    );
    assert.equal(old.text, fault("badRequest", 400, "Too old changes-since value."));
  });
});

describe("server actions", () => {
  it("shuts down, starts and reboots with 202, refusing wrong states as Cyclades does", async () => {
    const cyclades = compute();
    const server = await cyclades.createServer({ name: "acts", imageRef: AGENT_IMAGE_ID, flavorRef: 1 });
    const building = await api("POST", `/servers/${server.id}/action`, { shutdown: {} });
    assert.equal(building.status, 409);
    assert.equal(building.text, fault("buildInProgress", 409, `Server '${server.id}' is being built.`));
    await cyclades.waitForStatus(server.id, ["ACTIVE"], { intervalMs: 30 });
    assert.equal((await api("POST", `/servers/${server.id}/action`, { shutdown: {} })).status, 202);
    assert.equal((await cyclades.getServer(server.id)).status, "STOPPED");
    const again = await api("POST", `/servers/${server.id}/action`, { shutdown: {} });
    assert.equal(
      again.text,
      fault("badRequest", 400, "Cannot perform 'STOP' action while server is in 'STOPPED' state."),
    );
    await cyclades.action(server.id, { start: {} });
    assert.equal((await cyclades.getServer(server.id)).status, "ACTIVE");
    assert.equal(
      (await api("POST", `/servers/${server.id}/action`, { reboot: { type: "HARD" } })).status,
      202,
    );
    const badType = await api("POST", `/servers/${server.id}/action`, { reboot: { type: "GENTLE" } });
    assert.equal(badType.text, fault("badRequest", 400, "Invalid 'type' attribute."));
    const unknown = await api("POST", `/servers/${server.id}/action`, { dance: {} });
    assert.equal(unknown.text, fault("badRequest", 400, "Action dance not supported"));
    await cyclades.deleteServer(server.id);
    const deleted = await api("POST", `/servers/${server.id}/action`, { start: {} });
    assert.equal(deleted.text, fault("badRequest", 400, "Server has been deleted."));
  });
});

describe("flavors and images", () => {
  it("lists flavors short and in detail, and gets one", async () => {
    const short = await api("GET", "/flavors");
    assert.deepEqual(Object.keys(short.json.flavors[0]), ["id", "name", "links"]);
    const flavors = await compute().listFlavors();
    assert.deepEqual(
      flavors.map((f) => [f.id, f.vcpus, f.ram, f.disk, f.diskTemplate]),
      [
        ["1", 1, 1024, 20, "ext_vlmc"],
        ["2", 2, 2048, 40, "ext_vlmc"],
      ],
    );
    const one = await api("GET", "/flavors/2");
    assert.equal(one.json.flavor.name, "C2R2048D40ldisk");
    assert.equal(one.json.flavor["SNF:allow_create"], true);
    assert.equal((await api("GET", "/flavors/77")).text, fault("itemNotFound", 404, "Flavor not found."));
    assert.equal((await api("GET", "/flavors/x")).text, fault("badRequest", 400, "Invalid flavor ID 'x'"));
  });

  it("lists the configured images, the agent image among them, and gets one", async () => {
    const images = await compute().listImages();
    const agent = images.find((i) => i.id === AGENT_IMAGE_ID);
    assert.ok(agent);
    assert.equal(agent.status, "ACTIVE");
    assert.equal(agent.public, true);
    assert.deepEqual(agent.metadata, { OS: "debian", OSFAMILY: "linux" });
    const one = await api("GET", `/images/${AGENT_IMAGE_ID}`);
    assert.equal(one.json.image.progress, 100);
    assert.deepEqual(
      one.json.image.links.map((l: { rel: string }) => l.rel),
      ["self", "bookmark", "alternate"],
    );
    assert.equal(
      (await api("GET", "/images/nope")).text,
      fault("itemNotFound", 404, "Image 'nope' not found"),
    );
  });
});

describe("CycladesClient checks before sending", () => {
  it("refuses a personality over the limits without a request", async () => {
    const counters = async () =>
      ((await (await fetch(`${cloud.url}/_devcloud/counters`)).json()) as Record<string, number>)[
        "requests.compute"
      ];
    const before = await counters();
    const files = Array.from({ length: 6 }, (_, i) => personalityFile(`/f${i}`, "x"));
    await assert.rejects(
      compute().createServer({ name: "p", imageRef: AGENT_IMAGE_ID, flavorRef: 1, personality: files }),
      (e) => e instanceof SynnefoError && e.status === 413 && e.code === "overLimit",
    );
    await assert.rejects(
      compute().createServer({
        name: "p",
        imageRef: AGENT_IMAGE_ID,
        flavorRef: 1,
        personality: [personalityFile("/big", Buffer.alloc(7681))],
      }),
      { status: 413, code: "overLimit", message: "Maximum size of personality exceeded" },
    );
    await assert.rejects(
      compute().createServer({
        name: "p",
        imageRef: AGENT_IMAGE_ID,
        flavorRef: 1,
        personality: [{ path: "/x", contents: "eA==", colour: "red" } as never],
      }),
      { status: 400, code: "badRequest" },
    );
    assert.equal(await counters(), before, "nothing reached the devcloud");
    const fits = await compute().createServer({
      name: "p",
      imageRef: AGENT_IMAGE_ID,
      flavorRef: 1,
      personality: [personalityFile("/ok", Buffer.alloc(7680), { mode: 0o600 })],
    });
    assert.equal(fits.status, "BUILD");
    assert.ok(fits.adminPass);
  });
});

describe("authentication", () => {
  it("answers a missing token with `unauthorized` and a bad one with the relayed `fault` shape", async () => {
    const none = await api("GET", "/servers", undefined, null);
    assert.equal(none.status, 401);
    assert.equal(none.text, fault("unauthorized", 401, "Access denied. No authentication token"));
    const bad = await api("GET", "/servers", undefined, "bad-token");
    assert.equal(bad.status, 401);
    assert.equal(
      bad.text,
      JSON.stringify({
        fault: {
          code: 401,
          message: "UNAUTHORIZED",
          details: JSON.stringify({ unauthorized: { code: 401, message: "Invalid token", details: "" } }),
        },
      }),
    );
    await assert.rejects(compute("bad-token").listServers(), { status: 401, code: "unauthorized" });
    const query = await fetch(`${cloud.url}/compute/v2.0/servers?X-Auth-Token=${DEMO_TOKEN}`);
    assert.equal(query.status, 200, "the token may also come as a query parameter");
    await query.arrayBuffer();
  });

  it("answers wrong methods with 405 and unknown paths with 400", async () => {
    const wrong = await api("PATCH", "/servers");
    assert.equal(wrong.status, 405);
    assert.equal(wrong.text, fault("notAllowed", 405, "Method not allowed"));
    assert.match(wrong.headers.get("allow") ?? "", /GET/);
    const stray = await api("GET", "/nowhere");
    assert.equal(stray.status, 400);
    assert.equal(stray.text, fault("badRequest", 400, "API endpoint not found"));
  });
});
