import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DEMO_TOKEN, defaultConfig, loadConfig } from "./config.ts";
import { releaseProfile, SYNNEFO_RELEASES, type SynnefoRelease } from "./release.ts";
import { type Devcloud, startDevcloud } from "./server.ts";

const NOT_FOUND = JSON.stringify({
  badRequest: { code: 400, message: "API endpoint not found", details: "" },
});
const NO_NAME = JSON.stringify({
  badRequest: { code: 400, message: "Image 'name' parameter is required", details: "" },
});

/** What each release answers, as read from its source (see release.ts). */
const EXPECTED: Record<
  SynnefoRelease,
  { slashless: boolean; v1: boolean; versionedCatalog: boolean; wrapped: boolean; projects: boolean }
> = {
  "0.16": { slashless: false, v1: false, versionedCatalog: true, wrapped: false, projects: false },
  "0.17": { slashless: false, v1: false, versionedCatalog: true, wrapped: false, projects: true },
  "0.19": { slashless: false, v1: true, versionedCatalog: false, wrapped: false, projects: true },
  "0.20": { slashless: true, v1: true, versionedCatalog: false, wrapped: false, projects: true },
  latest: { slashless: true, v1: true, versionedCatalog: false, wrapped: true, projects: true },
};

it("defaults to the strictest release and refuses unknown ones, also in a config file", async () => {
  assert.equal(defaultConfig().synnefo, "0.16");
  assert.equal(releaseProfile().release, "0.16");
  assert.throws(() => releaseProfile("0.18"), /unknown Synnefo release '0.18' \(one of 0.16, 0.17/);
  const dir = await mkdtemp(join(tmpdir(), "devcloud-release-config-"));
  try {
    const file = join(dir, "config.json");
    await writeFile(file, JSON.stringify({ synnefo: "0.19" }));
    assert.equal((await loadConfig(file)).synnefo, "0.19");
    await writeFile(file, JSON.stringify({ synnefo: 0.16 }));
    await assert.rejects(loadConfig(file), /"synnefo" must be one of 0.16, 0.17, 0.19, 0.20, latest/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

for (const release of SYNNEFO_RELEASES) {
  const want = EXPECTED[release];
  describe(`devcloud playing Synnefo ${release}`, () => {
    let dir: string;
    let cloud: Devcloud;
    const call = async (method: string, path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(cloud.url + path, {
        method,
        headers: { "x-auth-token": DEMO_TOKEN, ...headers },
      });
      return { status: res.status, text: await res.text() };
    };

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), `devcloud-release-${release}-`));
      cloud = await startDevcloud({ dataDir: dir, config: { ...defaultConfig(), synnefo: release } });
    });
    after(async () => {
      await cloud.close();
      await rm(dir, { recursive: true, force: true });
    });

    it(`${want.slashless ? "routes" : "refuses"} POST and GET /images without the slash`, async () => {
      assert.equal(cloud.release, release);
      const post = await call("POST", "/image/v1.0/images");
      const get = await call("GET", "/image/v1.0/images");
      if (want.slashless) {
        assert.equal(post.text, NO_NAME, "the register handler answered");
        assert.equal(get.status, 200);
      } else {
        assert.deepEqual(post, { status: 400, text: NOT_FOUND });
        assert.deepEqual(get, { status: 400, text: NOT_FOUND });
      }
      assert.equal((await call("POST", "/image/v1.0/images/")).text, NO_NAME);
    });

    it("matches every other Plankton path slash for slash", async () => {
      assert.equal((await call("GET", "/image/v1.0/images/detail")).status, 200);
      assert.deepEqual(await call("GET", "/image/v1.0/images/detail/"), { status: 400, text: NOT_FOUND });
      assert.deepEqual(await call("HEAD", "/image/v1.0/images/some-id/"), { status: 400, text: "" });
    });

    it(`lists ${want.wrapped ? 'as {"images": […]}' : "as a bare array"}`, async () => {
      const body = JSON.parse((await call("GET", "/image/v1.0/images/")).text);
      assert.deepEqual(body, want.wrapped ? { images: [] } : []);
    });

    it(`${want.v1 ? "serves" : "has no"} /image/v1`, async () => {
      const res = await call("GET", "/image/v1/images/");
      if (want.v1) assert.equal(res.status, 200);
      else assert.deepEqual(res, { status: 400, text: NOT_FOUND });
    });

    it(`publishes the image endpoint ${want.versionedCatalog ? "with" : "without"} its version; ${want.projects ? "with" : "without"} user.projects`, async () => {
      const res = await fetch(`${cloud.authUrl}/tokens`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ auth: { token: { id: DEMO_TOKEN } } }),
      });
      const { access } = (await res.json()) as {
        access: {
          user: { projects?: string[] };
          serviceCatalog: { type: string; endpoints: { publicURL: string }[] }[];
        };
      };
      const image = access.serviceCatalog.find((e) => e.type === "image")?.endpoints[0]?.publicURL;
      assert.equal(image, want.versionedCatalog ? `${cloud.url}/image/v1.0` : `${cloud.url}/image`);
      assert.equal("projects" in access.user, want.projects);
    });
  });
}
