import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { AstakosClient, SynnefoError } from "@icaas/synnefo";
import { DEMO_TOKEN, DEMO_USER_UUID, type DevcloudConfig, defaultConfig } from "../config.ts";
import type { Devcloud } from "../server.ts";
import { startTempDevcloud } from "../testing.ts";

const OTHER = {
  uuid: "11111111-2222-3333-4444-555555555555",
  token: "other-token-abcdefghijklmnopqrstuvwxyz012",
};
const PROJECT = "99999999-8888-7777-6666-555555555555";

let cloud: Devcloud;

before(async () => {
  const base = defaultConfig();
  const config: DevcloudConfig = {
    ...base,
    // The newest answers (user.projects, unversioned image endpoint); older ones: release.test.ts.
    synnefo: "latest",
    users: [
      { ...(base.users[0] as DevcloudConfig["users"][number]), projects: [PROJECT], defaultProject: PROJECT },
      {
        uuid: OTHER.uuid,
        name: "other@example.org",
        token: OTHER.token,
        tokenExpires: "2031-01-02T03:04:05Z",
      },
      { uuid: "u-inactive", name: "i@example.org", token: "tok-inactive", active: false },
      {
        uuid: "u-expired",
        name: "e@example.org",
        token: "tok-expired",
        tokenExpires: "2001-01-01T00:00:00Z",
      },
      { uuid: "u-terms", name: "t@example.org", token: "tok-terms", signedTerms: false },
    ],
  };
  cloud = await startTempDevcloud("devcloud-identity-", { config });
});

after(async () => {
  await cloud.close();
});

async function tokens(body: string | undefined, headers: Record<string, string> = {}) {
  const res = await fetch(`${cloud.authUrl}/tokens`, {
    method: "POST",
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    body,
  });
  return { status: res.status, text: await res.text(), type: res.headers.get("content-type") };
}

describe("POST /identity/v2.0/tokens", () => {
  it("publishes the guest-visible catalog to a client that came through the guest URL (Host 10.0.2.2:port)", async () => {
    // A QEMU guest reaches the host's loopback as 10.0.2.2: its Host header says so.
    const guestUrl = `http://10.0.2.2:${cloud.port}`;
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(`${cloud.authUrl}/tokens`, {
        method: "POST",
        headers: { host: `10.0.2.2:${cloud.port}` },
      });
      req.on("response", (res) => {
        let body = "";
        res.on("data", (c: Buffer) => {
          body += c.toString();
        });
        res.on("end", () => resolve(body));
      });
      req.on("error", reject);
      req.end();
    });
    const urls = JSON.parse(text).access.serviceCatalog.map(
      (e: { endpoints: { publicURL: string }[] }) => e.endpoints[0]?.publicURL,
    );
    assert.ok(urls.length === 5 && urls.every((u: string) => u.startsWith(`${guestUrl}/`)), urls.join(" "));
    // Clients on the host keep the host URL.
    const host = JSON.parse((await tokens(undefined)).text).access.serviceCatalog[0].endpoints[0].publicURL;
    assert.equal(host, `${cloud.url}/identity/v2.0`);
  });

  it("answers an empty body with the catalog only, image endpoint without a version", async () => {
    const res = await tokens(undefined);
    assert.equal(res.status, 200);
    assert.equal(res.type, "application/json; charset=UTF-8");
    const access = JSON.parse(res.text).access;
    assert.deepEqual(Object.keys(access), ["serviceCatalog"]);
    const byType = Object.fromEntries(
      access.serviceCatalog.map((e: { type: string; endpoints: { publicURL: string }[] }) => [
        e.type,
        e.endpoints[0]?.publicURL,
      ]),
    );
    assert.deepEqual(byType, {
      identity: `${cloud.url}/identity/v2.0`,
      account: `${cloud.url}/account/v1.0`,
      compute: `${cloud.url}/compute/v2.0`,
      image: `${cloud.url}/image`,
      "object-store": `${cloud.url}/object-store/v1`,
    });
    const image = access.serviceCatalog.find((e: { type: string }) => e.type === "image");
    assert.deepEqual(image, {
      name: "cyclades_plankton",
      type: "image",
      endpoints: [
        {
          versionId: "v1.0",
          publicURL: `${cloud.url}/image`,
          "SNF:uiURL": `${cloud.url}/ui`,
          region: "default",
        },
      ],
      endpoints_links: [],
    });
  });

  it("validates a token: user, projects, default project as tenant, expiry", async () => {
    const res = await tokens(JSON.stringify({ auth: { token: { id: DEMO_TOKEN } } }));
    assert.equal(res.status, 200);
    const access = JSON.parse(res.text).access;
    assert.equal(access.token.id, DEMO_TOKEN);
    assert.deepEqual(access.token.tenant, { id: PROJECT, name: "demo@example.org" });
    assert.match(access.token.expires, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
    assert.deepEqual(access.user, {
      id: DEMO_USER_UUID,
      name: "demo@example.org",
      roles: [{ id: "1", name: "default" }],
      roles_links: [],
      projects: [DEMO_USER_UUID, PROJECT],
    });
    assert.equal(access.serviceCatalog.length, 5);
  });

  it("accepts the passwordCredentials form and the user's uuid as tenantName", async () => {
    const res = await tokens(
      JSON.stringify({
        auth: {
          passwordCredentials: { username: OTHER.uuid, password: OTHER.token },
          tenantName: OTHER.uuid,
        },
      }),
    );
    assert.equal(res.status, 200);
    const access = JSON.parse(res.text).access;
    assert.equal(access.user.id, OTHER.uuid);
    assert.equal(access.token.expires, "2031-01-02T03:04:05+00:00");
    assert.deepEqual(access.user.projects, [OTHER.uuid]);
    assert.equal(access.token.tenant.id, OTHER.uuid);
  });

  const fault = (name: string, code: number, message: string) =>
    JSON.stringify({ [name]: { code, message, details: "" } });

  const errorRows: [string, string, number, string][] = [
    [
      "no token and no credentials",
      JSON.stringify({ auth: {} }),
      400,
      fault("badRequest", 400, "Malformed request: missing credentials"),
    ],
    [
      "no auth at all",
      JSON.stringify({ foo: 1 }),
      400,
      fault("badRequest", 400, "Malformed request: missing credentials"),
    ],
    [
      "credentials without a password",
      JSON.stringify({ auth: { passwordCredentials: { username: "x" } } }),
      400,
      fault("badRequest", 400, "Malformed request: missing credentials"),
    ],
    [
      "a null token id",
      JSON.stringify({ auth: { token: { id: null } } }),
      400,
      fault("badRequest", 400, "Malformed request: missing token"),
    ],
    [
      "a tenantName that is not the uuid",
      JSON.stringify({ auth: { token: { id: DEMO_TOKEN }, tenantName: "someone" } }),
      400,
      fault("badRequest", 400, "Not conforming tenantName"),
    ],
    [
      "an unknown token",
      JSON.stringify({ auth: { token: { id: "nope" } } }),
      401,
      fault("unauthorized", 401, "Invalid token"),
    ],
    [
      "a username that does not own the token",
      JSON.stringify({ auth: { passwordCredentials: { username: OTHER.uuid, password: DEMO_TOKEN } } }),
      401,
      fault("unauthorized", 401, "Invalid credentials"),
    ],
    [
      "an inactive user",
      JSON.stringify({ auth: { token: { id: "tok-inactive" } } }),
      401,
      fault("unauthorized", 401, "User inactive"),
    ],
    [
      "an expired token",
      JSON.stringify({ auth: { token: { id: "tok-expired" } } }),
      401,
      fault("unauthorized", 401, "Authentication expired"),
    ],
    [
      "terms not accepted",
      JSON.stringify({ auth: { token: { id: "tok-terms" } } }),
      401,
      fault("unauthorized", 401, "Pending approval terms"),
    ],
    [
      "a body that is not JSON",
      "{auth",
      400,
      fault("badRequest", 400, "Could not decode request body as JSON"),
    ],
  ];
  for (const [what, body, status, expected] of errorRows) {
    it(`refuses ${what} with ${status} and Astakos' exact body`, async () => {
      const res = await tokens(body);
      assert.equal(res.status, status);
      assert.equal(res.text, expected);
    });
  }

  it("refuses a body without a JSON content type", async () => {
    const res = await fetch(`${cloud.authUrl}/tokens`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "{}",
    });
    assert.equal(res.status, 400);
    assert.equal(await res.text(), fault("badRequest", 400, "Unsupported Content-type: 'text/plain'"));
    const none = await fetch(`${cloud.authUrl}/tokens`, { method: "POST", body: new Uint8Array([123, 125]) });
    assert.equal(none.status, 400);
    assert.equal(await none.text(), fault("badRequest", 400, "Missing Content-Type header field"));
  });

  it("answers other methods with 405 and unknown paths with 400", async () => {
    const get = await fetch(`${cloud.authUrl}/tokens`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
    assert.equal(await get.text(), fault("notAllowed", 405, "Method not allowed"));
    const stray = await fetch(`${cloud.authUrl}/nothing-here`);
    assert.equal(stray.status, 400);
    assert.equal(await stray.text(), fault("badRequest", 400, "API endpoint not found"));
  });
});

describe("AstakosClient against the devcloud", () => {
  const astakos = () => new AstakosClient({ authUrl: `${cloud.authUrl}/`, retries: 0 });

  it("authenticates a token into a user and a catalog with kamaki's version rule", async () => {
    const { user, catalog } = await astakos().authenticate(DEMO_TOKEN);
    assert.deepEqual(user, {
      uuid: DEMO_USER_UUID,
      name: "demo@example.org",
      projects: [DEMO_USER_UUID, PROJECT],
      defaultProject: PROJECT,
      expires: user.expires,
    });
    assert.equal(catalog.endpoint("image"), `${cloud.url}/image/v1.0`);
    assert.equal(catalog.endpoint("compute"), `${cloud.url}/compute/v2.0`);
    assert.equal(catalog.endpoint("object-store"), `${cloud.url}/object-store/v1`);
    assert.equal(catalog.endpoint("account"), `${cloud.url}/account/v1.0`);
    assert.throws(() => catalog.endpoint("network"), { code: "endpointNotFound" });
  });

  it("rejects a bad token with a 401 SynnefoError that does not contain the token", async () => {
    const secret = "very-secret-token-value-0123456789abcdefgh";
    await assert.rejects(astakos().authenticate(secret), (e) => {
      assert.ok(e instanceof SynnefoError);
      assert.equal(e.status, 401);
      assert.equal(e.code, "unauthorized");
      assert.equal(e.message, "Invalid token");
      assert.ok(!JSON.stringify(e.toJSON()).includes(secret));
      assert.ok(!e.message.includes(secret) && !String(e.stack).includes(secret));
      return true;
    });
    await assert.rejects(astakos().authenticate("tok-expired"), {
      status: 401,
      message: "Authentication expired",
    });
  });

  it("reads the public catalog without a token", async () => {
    const catalog = await astakos().catalog();
    assert.equal(catalog.endpoint("identity"), `${cloud.url}/identity/v2.0`);
  });
});
