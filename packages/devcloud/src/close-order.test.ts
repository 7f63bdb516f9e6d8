import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { CycladesClient, personalityFile } from "@icaas/synnefo";
import { AGENT_IMAGE_ID, DEMO_TOKEN, DEMO_USER_UUID, defaultConfig } from "./config.ts";
import { startDevcloud } from "./server.ts";

/**
 * An "agent" that, like the real one on SIGTERM, talks to Pithos before it exits: it appends to its
 * log object and writes the status codes it got to sigterm.json in its VM directory.
 */
const AGENT = `
const fs = require("node:fs");
const url = fs.readFileSync("etc/object-url", "utf8").trim();
const put = (i) => fetch(url + "-" + i, { method: "PUT", headers: { "x-auth-token": ${JSON.stringify(DEMO_TOKEN)} }, body: "last words" }).then((r) => r.status, (e) => String(e));
process.on("SIGTERM", async () => {
  const statuses = [];
  for (let i = 0; i < 5; i++) statuses.push(await put(i));
  fs.writeFileSync("sigterm.json", JSON.stringify(statuses));
  process.exit(0);
});
fs.writeFileSync("up", "");
setInterval(() => {}, 1000);
`;

const dir = await mkdtemp(join(tmpdir(), "devcloud-close-"));
after(() => rm(dir, { recursive: true, force: true }));

it("stops its VMs before closing the object store, so an agent's last Pithos writes succeed", async () => {
  const cloud = await startDevcloud({
    dataDir: dir,
    config: {
      ...defaultConfig(),
      bootSeconds: 0.05,
      agent: { command: [process.execPath, "-e", AGENT], stopGraceSeconds: 10 },
    },
  });
  const cyclades = new CycladesClient({ computeUrl: `${cloud.url}/compute/v2.0`, token: DEMO_TOKEN });
  const storage = `${cloud.url}/object-store/v1/${DEMO_USER_UUID}`;
  assert.equal(
    (await fetch(`${storage}/logs`, { method: "PUT", headers: { "x-auth-token": DEMO_TOKEN } })).status,
    201,
  );
  const server = await cyclades.createServer({
    name: "agent",
    imageRef: AGENT_IMAGE_ID,
    flavorRef: 1,
    personality: [personalityFile("/etc/object-url", `${storage}/logs/last-words`)],
  });
  const admin = (await (await fetch(`${cloud.url}/_devcloud/compute/servers`)).json()) as {
    servers: { id: number; rootDir: string }[];
  };
  const root = admin.servers.find((s) => String(s.id) === String(server.id))!.rootDir;
  for (let i = 0; i < 200 && !existsSync(join(root, "up")); i++) await sleep(25);
  assert.ok(existsSync(join(root, "up")), "the agent started");

  await cloud.close();
  const statuses = JSON.parse(await readFile(join(root, "sigterm.json"), "utf8")) as unknown[];
  assert.deepEqual(statuses, [201, 201, 201, 201, 201]);
});
