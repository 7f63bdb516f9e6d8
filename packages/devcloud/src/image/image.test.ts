import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type Connection,
  CycladesClient,
  connect,
  PlanktonClient,
  pithosLocation,
  SynnefoError,
} from "@icaas/synnefo";
import { DEMO_TOKEN, DEMO_USER_UUID, type DevcloudConfig, defaultConfig } from "../config.ts";
import { type Devcloud, startDevcloud } from "../server.ts";

const OTHER = {
  uuid: "cccccccc-0000-4000-8000-000000000003",
  token: "img-other-0123456789abcdefghijklmnopqrs",
};

let dir: string;
let cloud: Devcloud;
let config: DevcloudConfig;
let me: Connection;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "devcloud-image-"));
  const base = defaultConfig();
  config = {
    ...base,
    users: [...base.users, { uuid: OTHER.uuid, name: "o@example.org", token: OTHER.token }],
    bootSeconds: 0.05,
  };
  cloud = await startDevcloud({ dataDir: dir, config });
  me = await connect({ authUrl: cloud.authUrl, token: DEMO_TOKEN, retries: 0 });
  await me.pithos.createContainer("images");
});

after(async () => {
  await cloud.close();
  await rm(dir, { recursive: true, force: true });
});

const imageUrl = () => `${cloud.url}/image/v1.0`;
const plankton = (token = DEMO_TOKEN) => new PlanktonClient({ imageUrl: imageUrl(), token, retries: 0 });

let serial = 0;
/** Uploads a fresh object and returns its location, uuid and Merkle hash. */
async function upload(body: string | Buffer = `disk image ${++serial}`) {
  const name = `dir/disk ${serial}-${Date.now()}.raw`;
  await me.pithos.putObject("images", name, body, { contentType: "application/octet-stream" });
  const info = await me.pithos.headObject("images", name);
  return { name, uuid: info.uuid, hash: info.hash, location: pithosLocation(DEMO_USER_UUID, "images", name) };
}

async function register(headers: Record<string, string>, token = DEMO_TOKEN, path = "/image/v1.0/images/") {
  const res = await fetch(cloud.url + path, {
    method: "POST",
    headers: { "x-auth-token": token, ...headers },
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

const fault = (name: string, code: number, message: string) =>
  JSON.stringify({ [name]: { code, message, details: "" } });

describe("POST /image/v1.0/images/ (register)", () => {
  it("registers with headers only: 200, empty body, the image in headers, id = object uuid", async () => {
    const obj = await upload();
    const res = await register({
      "X-Image-Meta-Name": encodeURIComponent("Debian 12 ✓"),
      "X-Image-Meta-Location": obj.location,
      "X-Image-Meta-Property-OSFAMILY": "linux",
      "X-Image-Meta-Property-ROOT-PARTITION": "1",
      "X-Image-Meta-Property-Description": encodeURIComponent("Δοκιμή / test"),
      "X-Image-Meta-Min-Ram": "512",
    });
    assert.equal(res.status, 200);
    assert.equal(res.text, "");
    const h = (k: string) => res.headers.get(`x-image-meta-${k}`);
    assert.equal(h("id"), obj.uuid);
    assert.equal(decodeURIComponent(h("name") ?? ""), "Debian 12 ✓");
    assert.equal(h("disk-format"), "diskdump");
    assert.equal(h("container-format"), "bare");
    assert.equal(h("size"), String(Buffer.byteLength(`disk image ${serial}`)));
    assert.equal(h("checksum"), obj.hash);
    assert.equal(h("location"), obj.location);
    assert.equal(h("status"), "AVAILABLE");
    assert.equal(h("is-public"), "False");
    assert.equal(h("is-snapshot"), "False");
    assert.equal(h("owner"), DEMO_USER_UUID);
    assert.equal(h("deleted-at"), "");
    assert.equal(h("description"), "");
    assert.match(h("created-at") ?? "", /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.match(h("updated-at") ?? "", /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.equal(h("property-osfamily"), "linux");
    assert.equal(h("property-root-partition"), "1");
    assert.equal(decodeURIComponent(h("property-description") ?? ""), "Δοκιμή / test");
    assert.equal(h("min-ram"), null, "unknown meta headers are ignored");
  });

  const rows: [string, (loc: string) => Record<string, string>, number, string][] = [
    [
      "no name",
      (loc) => ({ "X-Image-Meta-Location": loc }),
      400,
      fault("badRequest", 400, "Image 'name' parameter is required"),
    ],
    [
      "an empty name",
      (loc) => ({ "X-Image-Meta-Name": "", "X-Image-Meta-Location": loc }),
      400,
      fault("badRequest", 400, "Invalid image name"),
    ],
    [
      "no location",
      () => ({ "X-Image-Meta-Name": "n" }),
      400,
      fault("badRequest", 400, "'location' parameter is required"),
    ],
    [
      "a location of the wrong shape",
      () => ({ "X-Image-Meta-Name": "n", "X-Image-Meta-Location": "pithos://u/c" }),
      400,
      fault("badRequest", 400, "Invalid location 'pithos://u/c'"),
    ],
    [
      "an http location",
      () => ({ "X-Image-Meta-Name": "n", "X-Image-Meta-Location": "http://a/b/c/d" }),
      400,
      fault("badRequest", 400, "Invalid location 'http://a/b/c/d'"),
    ],
    [
      "an Id header",
      (loc) => ({ "X-Image-Meta-Name": "n", "X-Image-Meta-Location": loc, "X-Image-Meta-Id": "x" }),
      400,
      fault("badRequest", 400, "Setting the image ID is not supported"),
    ],
    [
      "a Description header",
      (loc) => ({ "X-Image-Meta-Name": "n", "X-Image-Meta-Location": loc, "X-Image-Meta-Description": "d" }),
      400,
      fault("badRequest", 400, "Invalid parameters"),
    ],
    [
      "a Status header",
      (loc) => ({ "X-Image-Meta-Name": "n", "X-Image-Meta-Location": loc, "X-Image-Meta-Status": "ACTIVE" }),
      400,
      fault("badRequest", 400, "Invalid parameters"),
    ],
    [
      "a Size header",
      (loc) => ({ "X-Image-Meta-Name": "n", "X-Image-Meta-Location": loc, "X-Image-Meta-Size": "9" }),
      400,
      fault("badRequest", 400, "Invalid 'size' field"),
    ],
    [
      "a checksum that is not the Merkle hash",
      (loc) => ({
        "X-Image-Meta-Name": "n",
        "X-Image-Meta-Location": loc,
        "X-Image-Meta-Checksum": "d41d8cd98f00b204e9800998ecf8427e",
      }),
      400,
      fault("badRequest", 400, "Invalid checksum field"),
    ],
    [
      "an unknown disk format",
      (loc) => ({
        "X-Image-Meta-Name": "n",
        "X-Image-Meta-Location": loc,
        "X-Image-Meta-Disk-Format": "qcow2",
      }),
      400,
      fault("badRequest", 400, "Invalid disk format 'qcow2'"),
    ],
    [
      "an unknown container format",
      (loc) => ({
        "X-Image-Meta-Name": "n",
        "X-Image-Meta-Location": loc,
        "X-Image-Meta-Container-Format": "zip",
      }),
      400,
      fault("badRequest", 400, "Invalid container format 'zip'"),
    ],
    [
      "a property key over 111 characters with its prefix",
      (loc) => ({
        "X-Image-Meta-Name": "n",
        "X-Image-Meta-Location": loc,
        [`X-Image-Meta-Property-${"K".repeat(94)}`]: "v",
      }),
      400,
      fault("badRequest", 400, "Metadata keys should be less than 111 characters"),
    ],
    [
      "a property value over 256 characters",
      (loc) => ({
        "X-Image-Meta-Name": "n",
        "X-Image-Meta-Location": loc,
        "X-Image-Meta-Property-X": "v".repeat(257),
      }),
      400,
      fault("badRequest", 400, "Metadata values should be less than 256 characters."),
    ],
  ];
  for (const [what, headers, status, body] of rows) {
    it(`refuses ${what}`, async () => {
      const obj = await upload();
      const res = await register(headers(obj.location));
      assert.equal(res.status, status);
      assert.equal(res.text, body);
    });
  }

  it("answers 404 for a missing object and 403 for another user's", async () => {
    const missing = await register({
      "X-Image-Meta-Name": "n",
      "X-Image-Meta-Location": pithosLocation(DEMO_USER_UUID, "images", "no-such-object"),
    });
    assert.equal(missing.status, 404);
    assert.equal(JSON.parse(missing.text).itemNotFound.code, 404);
    const obj = await upload();
    const theirs = await register(
      { "X-Image-Meta-Name": "n", "X-Image-Meta-Location": obj.location },
      OTHER.token,
    );
    assert.equal(theirs.status, 403);
  });

  it("unquotes each location segment exactly once, as urllib.unquote: valid escapes only", async () => {
    for (const [name, quoted] of [
      ["aA%zz.raw", "a%41%zz.raw"],
      ["100%41.raw", "100%2541.raw"],
    ] as const) {
      await me.pithos.putObject("images", name, "x", { contentType: "application/octet-stream" });
      const { uuid } = await me.pithos.headObject("images", name);
      const res = await register({
        "X-Image-Meta-Name": "once",
        "X-Image-Meta-Location": `pithos://${DEMO_USER_UUID}/images/${quoted}`,
      });
      assert.equal(res.status, 200, `${quoted}: ${res.text}`);
      assert.equal(res.headers.get("x-image-meta-id"), uuid);
    }
  });

  it("accepts the Merkle hash as checksum and a 93-character property key", async () => {
    const obj = await upload();
    const res = await register({
      "X-Image-Meta-Name": "v1",
      "X-Image-Meta-Location": obj.location,
      "X-Image-Meta-Checksum": obj.hash,
      [`X-Image-Meta-Property-${"K".repeat(93)}`]: "v",
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get(`x-image-meta-property-${"k".repeat(93)}`), "v");
  });

  it("gives the same id when the same object is registered again, merging properties", async () => {
    const obj = await upload();
    const first = await plankton().register({
      name: "one",
      location: obj.location,
      properties: { OSFAMILY: "linux" },
    });
    const second = await plankton().register({
      name: "two",
      location: obj.location,
      properties: { USERS: "root" },
    });
    assert.equal(second.id, first.id);
    assert.equal(second.name, "two");
    assert.deepEqual(second.properties, { osfamily: "linux", users: "root" });
  });
});

describe("PlanktonClient against the devcloud", () => {
  it("registers with quoted values and dashed property headers, and reads the answer back", async () => {
    const obj = await upload();
    const image = await plankton().register({
      name: "Ubuntu 24.04 — “noble”",
      location: obj.location,
      diskFormat: "diskdump",
      containerFormat: "bare",
      isPublic: false,
      checksum: obj.hash,
      properties: { OSFAMILY: "linux", ROOT_PARTITION: "2", USERS: "root ubuntu", DESCRIPTION: "Ä/ö & 100%" },
    });
    assert.equal(image.id, obj.uuid);
    assert.equal(image.name, "Ubuntu 24.04 — “noble”");
    assert.equal(image.location, obj.location);
    assert.equal(image.checksum, obj.hash);
    assert.equal(image.status, "AVAILABLE");
    assert.equal(image.isPublic, false);
    assert.equal(image.owner, DEMO_USER_UUID);
    assert.deepEqual(image.properties, {
      osfamily: "linux",
      root_partition: "2",
      users: "root ubuntu",
      description: "Ä/ö & 100%",
    });
    const head = await plankton().head(image.id);
    assert.deepEqual(head, image);
  });

  it("lists (a bare array on 0.16) with short and detail fields, sorted as asked", async () => {
    const a = await upload("a");
    const b = await upload("bbbbbb");
    await plankton().register({ name: "zz-sort-a", location: a.location });
    await plankton().register({ name: "aa-sort-b", location: b.location, properties: { OS: "x" } });
    const res = await fetch(`${imageUrl()}/images/?sort_key=name&sort_dir=asc`, {
      headers: { "x-auth-token": DEMO_TOKEN },
    });
    const images = (await res.json()) as Record<string, unknown>[];
    assert.deepEqual(Object.keys(images[0] ?? {}).sort(), [
      "container_format",
      "disk_format",
      "id",
      "name",
      "size",
      "status",
    ]);
    const names = images.map((i) => i.name as string);
    assert.deepEqual(names, [...names].sort());
    const detail = await plankton().list({ detail: true, sortKey: "size", sortDir: "desc" });
    const sizes = detail.map((i) => i.size);
    assert.deepEqual(
      sizes,
      [...sizes].sort((x, y) => y - x),
    );
    const sortB = detail.find((i) => i.id === b.uuid);
    assert.deepEqual(sortB?.properties, { os: "x" });
    assert.equal(sortB?.checksum, b.hash);
    const bad = await fetch(`${imageUrl()}/images/?sort_key=colour`, {
      headers: { "x-auth-token": DEMO_TOKEN },
    });
    assert.equal(await bad.text(), fault("badRequest", 400, "Invalid 'sort_key'"));
    const badDir = await fetch(`${imageUrl()}/images/?sort_dir=up`, {
      headers: { "x-auth-token": DEMO_TOKEN },
    });
    assert.equal(await badDir.text(), fault("badRequest", 400, "Invalid 'sort_dir'"));
  });

  it("updates name, properties (merged) and visibility; public images are seen by others", async () => {
    const obj = await upload();
    const image = await plankton().register({
      name: "before",
      location: obj.location,
      properties: { OS: "debian" },
    });
    await assert.rejects(plankton(OTHER.token).head(image.id), { status: 403 });
    assert.ok(!(await plankton(OTHER.token).list()).some((i) => i.id === image.id));
    const updated = await plankton().update(image.id, {
      name: "after",
      isPublic: true,
      properties: { USERS: "root" },
    });
    assert.equal(updated.name, "after");
    assert.equal(updated.isPublic, true);
    assert.deepEqual(updated.properties, { os: "debian", users: "root" });
    assert.equal((await plankton(OTHER.token).head(image.id)).name, "after");
    assert.ok((await plankton(OTHER.token).list()).some((i) => i.id === image.id));
    await assert.rejects(plankton(OTHER.token).update(image.id, { name: "mine now" }), { status: 403 });
    const res = await fetch(`${imageUrl()}/images/${image.id}`, {
      method: "PUT",
      headers: { "x-auth-token": DEMO_TOKEN, "X-Image-Meta-Location": obj.location },
    });
    assert.equal(await res.text(), fault("badRequest", 400, "Invalid metadata"));
    await assert.rejects(plankton().update(image.id, { checksum: "x" }), {
      status: 400,
      message: "Invalid metadata",
    });
  });

  it("unregisters with 204; then HEAD is 404 and the Pithos object stays", async () => {
    const obj = await upload();
    const image = await plankton().register({ name: "temp", location: obj.location });
    await assert.rejects(plankton(OTHER.token).unregister(image.id), { status: 403 });
    const res = await fetch(`${imageUrl()}/images/${image.id}`, {
      method: "DELETE",
      headers: { "x-auth-token": DEMO_TOKEN },
    });
    assert.equal(res.status, 204);
    const head = await fetch(`${imageUrl()}/images/${image.id}`, {
      method: "HEAD",
      headers: { "x-auth-token": DEMO_TOKEN },
    });
    assert.equal(head.status, 404);
    await assert.rejects(plankton().head(image.id), (e) => e instanceof SynnefoError && e.status === 404);
    assert.equal((await me.pithos.headObject("images", obj.name)).uuid, obj.uuid);
    assert.ok(!(await plankton().list()).some((i) => i.id === image.id));
    await assert.rejects(plankton().unregister(image.id), { status: 404 });
    await assert.rejects(plankton().head("00000000-0000-4000-8000-00000000dead"), { status: 404 });
  });

  it("shares with members: the owner is listed, a member can read, a removed one cannot", async () => {
    const obj = await upload();
    const image = await plankton().register({ name: "shared", location: obj.location });
    assert.deepEqual(await plankton().listMembers(image.id), [DEMO_USER_UUID]);
    await plankton().addMember(image.id, OTHER.uuid);
    assert.equal((await plankton(OTHER.token).head(image.id)).name, "shared");
    assert.deepEqual((await plankton().listMembers(image.id)).sort(), [DEMO_USER_UUID, OTHER.uuid].sort());
    await plankton().removeMember(image.id, OTHER.uuid);
    await assert.rejects(plankton(OTHER.token).head(image.id), { status: 403 });
    await plankton().setMembers(image.id, [OTHER.uuid]);
    assert.deepEqual(await plankton().listMembers(image.id), [OTHER.uuid]);
  });

  it("answers GET of one image with 501, a missing token with 401, a bad one with the relayed fault", async () => {
    const res = await fetch(`${imageUrl()}/images/anything`, { headers: { "x-auth-token": DEMO_TOKEN } });
    assert.equal(res.status, 501);
    const none = await fetch(`${imageUrl()}/images/`);
    assert.equal(await none.text(), fault("unauthorized", 401, "Access denied. No authentication token"));
    const bad = await fetch(`${imageUrl()}/images/`, { headers: { "x-auth-token": "bad" } });
    assert.equal(bad.status, 401);
    assert.equal(JSON.parse(await bad.text()).fault.message, "UNAUTHORIZED");
    const wrong = await fetch(`${imageUrl()}/images/`, {
      method: "DELETE",
      headers: { "x-auth-token": DEMO_TOKEN },
    });
    assert.equal(wrong.status, 405);
    const stray = await fetch(`${cloud.url}/image/v2/images`, { headers: { "x-auth-token": DEMO_TOKEN } });
    assert.equal(await stray.text(), fault("badRequest", 400, "API endpoint not found"));
  });
});

describe("images and servers", () => {
  it("lets compute list a registered image and boot a server from it", async () => {
    const obj = await upload();
    const image = await plankton().register({
      name: "bootable",
      location: obj.location,
      properties: { OS: "alpine" },
    });
    const cyclades = new CycladesClient({ computeUrl: `${cloud.url}/compute/v2.0`, token: DEMO_TOKEN });
    const listed = (await cyclades.listImages()).find((i) => i.id === image.id);
    assert.equal(listed?.status, "ACTIVE");
    assert.deepEqual(listed?.metadata, { os: "alpine" });
    const server = await cyclades.createServer({ name: "from-plankton", imageRef: image.id, flavorRef: 1 });
    assert.equal(server.status, "BUILD");
    await cyclades.waitForStatus(server.id, ["ACTIVE"], { intervalMs: 20 });
    await cyclades.deleteServer(server.id);
  });
});

describe("persistence", () => {
  it("keeps registered images across a restart, with the object", async () => {
    const obj = await upload();
    const image = await plankton().register({
      name: "durable",
      location: obj.location,
      properties: { SWAP: "2:512" },
    });
    await cloud.close();
    cloud = await startDevcloud({ dataDir: dir, config });
    const head = await plankton().head(image.id);
    assert.equal(head.name, "durable");
    assert.deepEqual(head.properties, { swap: "2:512" });
    assert.ok((await plankton().list()).some((i) => i.id === image.id));
  });
});
