import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { CycladesClient, personalityFile } from "@icaas/synnefo";
import { AGENT_IMAGE_ID, DEMO_TOKEN, type DevcloudConfig, defaultConfig } from "../../config.ts";
import { type Devcloud, startDevcloud } from "../../server.ts";

/**
 * The "agent": reads its mode from a personality file, starts a child (to prove the whole group is
 * stopped), writes what it sees to started.json in its cwd, then waits forever.
 */
const AGENT = `
const fs = require("node:fs");
const { spawn } = require("node:child_process");
let mode = "";
try { mode = fs.readFileSync("etc/agent-mode", "utf8").trim(); } catch {}
if (mode === "exit") { console.log("agent exits by itself"); process.exit(3); }
if (mode === "stubborn") process.on("SIGTERM", () => console.log("agent ignores SIGTERM"));
const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
// Written whole, then renamed: the test polls for the file and must never read half of it.
fs.writeFileSync("started.json.part", JSON.stringify({ pid: process.pid, child: child.pid, cwd: process.cwd(), arg: process.argv[1], env: process.env }));
fs.renameSync("started.json.part", "started.json");
console.log("agent up");
setInterval(() => {}, 1000);
`;

let dir: string;
let cloud: Devcloud;
let config: DevcloudConfig;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "devcloud-vm-"));
  process.env.DEVCLOUD_TEST_SECRET = "parent-secret-must-not-leak";
  config = {
    ...defaultConfig(),
    bootSeconds: 0.05,
    agent: {
      command: [process.execPath, "-e", AGENT, "{root}"],
      env: { ICAAS_FOO: "foo:{root}" },
      stopGraceSeconds: 0.5,
    },
  };
  cloud = await startDevcloud({ dataDir: dir, config });
});

after(async () => {
  delete process.env.DEVCLOUD_TEST_SECRET;
  await cloud?.close();
  await rm(dir, { recursive: true, force: true });
});

const cyclades = () =>
  new CycladesClient({ computeUrl: `${cloud.url}/compute/v2.0`, token: DEMO_TOKEN, retries: 0 });

interface AdminServer {
  id: number;
  status: string;
  pid: number | null;
  process: { state: string; exitCode?: number | null } | null;
  rootDir: string;
  consoleLog: string;
}

async function admin(id: string): Promise<AdminServer> {
  const res = await fetch(`${cloud.url}/_devcloud/compute/servers`);
  const { servers } = (await res.json()) as { servers: AdminServer[] };
  const found = servers.find((s) => String(s.id) === id);
  assert.ok(found, `server ${id} in the admin list`);
  return found;
}

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms = 5000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** True while the process exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\S+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

async function boot(mode?: string) {
  const personality = [
    personalityFile("/etc/icaas/manifest.cfg", "[manifest]\nurl = http://example/\n", { mode: 0o600 }),
    personalityFile("opt/tool/run.sh", "#!/bin/sh\necho hi\n", { mode: 0o755 }),
  ];
  if (mode) personality.push(personalityFile("/etc/agent-mode", mode));
  const server = await cyclades().createServer({
    name: "agent",
    imageRef: AGENT_IMAGE_ID,
    flavorRef: 1,
    personality,
  });
  await cyclades().waitForStatus(server.id, ["ACTIVE"], { intervalMs: 20, timeoutMs: 5000 });
  const info = await admin(server.id);
  return { id: server.id, root: info.rootDir, consoleLog: info.consoleLog };
}

async function started(root: string) {
  const file = join(root, "started.json");
  return until("the agent to start", async () =>
    existsSync(file)
      ? (JSON.parse(await readFile(file, "utf8")) as {
          pid: number;
          child: number;
          cwd: string;
          arg: string;
          env: Record<string, string>;
        })
      : undefined,
  );
}

describe("a VM of the agent image", () => {
  it("is a directory with the personality files (modes applied) and runs the agent there, in a clean env", async () => {
    const vm = await boot();
    assert.equal(
      readFileSync(join(vm.root, "etc/icaas/manifest.cfg"), "utf8"),
      "[manifest]\nurl = http://example/\n",
    );
    assert.equal(statSync(join(vm.root, "etc/icaas/manifest.cfg")).mode & 0o777, 0o600);
    assert.equal(statSync(join(vm.root, "opt/tool/run.sh")).mode & 0o777, 0o755);
    const seen = await started(vm.root);
    assert.equal(seen.cwd, vm.root);
    assert.equal(seen.arg, vm.root, "{root} is replaced in the command");
    assert.equal(seen.env.ICAAS_FOO, `foo:${vm.root}`);
    assert.equal(seen.env.HOME, vm.root);
    assert.equal(seen.env.TMPDIR, join(vm.root, "tmp"));
    assert.equal(seen.env.DEVCLOUD_TEST_SECRET, undefined, "the parent's environment does not leak");
    assert.ok(alive(seen.pid) && alive(seen.child));
    const info = await admin(vm.id);
    assert.equal(info.pid, seen.pid);
    assert.equal(info.process?.state, "running");
    await until("the agent's output in console.log", () =>
      readFileSync(vm.consoleLog, "utf8").includes("agent up"),
    );
    const consoleText = await (await fetch(`${cloud.url}/_devcloud/compute/servers/${vm.id}/console`)).text();
    assert.match(consoleText, /agent up/);

    await cyclades().deleteServer(vm.id);
    await until("the agent and its child to stop", () => !alive(seen.pid) && !alive(seen.child));
    assert.equal((await cyclades().getServer(vm.id)).status, "DELETED");
    assert.equal((await admin(vm.id)).process?.state, "stopped");
  });

  it("kills an agent that ignores SIGTERM once the grace period is over", async () => {
    const vm = await boot("stubborn");
    const seen = await started(vm.root);
    const t0 = Date.now();
    await cyclades().deleteServer(vm.id);
    await until("the stubborn agent to die", () => !alive(seen.pid) && !alive(seen.child), 5000);
    assert.ok(Date.now() - t0 >= 400, "it got its grace period first");
    assert.match(readFileSync(vm.consoleLog, "utf8"), /agent ignores SIGTERM/);
  });

  it("crashes the agent through the admin kill endpoint; the server stays ACTIVE", async () => {
    const vm = await boot();
    const seen = await started(vm.root);
    const res = await fetch(`${cloud.url}/_devcloud/compute/servers/${vm.id}/kill`, { method: "POST" });
    assert.equal(res.status, 204);
    assert.ok(!alive(seen.pid) && !alive(seen.child));
    assert.equal((await cyclades().getServer(vm.id)).status, "ACTIVE");
    assert.equal((await admin(vm.id)).process?.state, "killed");
    const again = await fetch(`${cloud.url}/_devcloud/compute/servers/${vm.id}/kill`, { method: "POST" });
    assert.equal(again.status, 409);
    assert.equal(
      (await fetch(`${cloud.url}/_devcloud/compute/servers/4242/kill`, { method: "POST" })).status,
      404,
    );
    await cyclades().deleteServer(vm.id);
  });

  it("leaves the server ACTIVE when the agent exits by itself", async () => {
    const vm = await boot("exit");
    const info = await until("the agent to exit", async () => {
      const a = await admin(vm.id);
      return a.process?.state === "exited" ? a : undefined;
    });
    assert.equal(info.process?.exitCode, 3);
    assert.equal((await cyclades().getServer(vm.id)).status, "ACTIVE");
    assert.match(readFileSync(vm.consoleLog, "utf8"), /agent exits by itself[\s\S]*exit code 3/);
  });

  it("stops the agent on shutdown and runs it again on start", async () => {
    const vm = await boot();
    const first = await started(vm.root);
    await cyclades().action(vm.id, { shutdown: {} });
    await until("the agent to stop", () => !alive(first.pid) && !alive(first.child));
    await rm(join(vm.root, "started.json"));
    await cyclades().action(vm.id, { start: {} });
    const second = await started(vm.root);
    assert.notEqual(second.pid, first.pid);
    await cyclades().deleteServer(vm.id);
    await until("the agent to stop", () => !alive(second.pid));
  });

  it("does not run anything for images other than the agent image", async () => {
    const other = "6e4d3c2b-0000-4000-8000-000000000001";
    await restart({ ...config, images: [...config.images, { id: other, name: "plain" }] });
    const server = await cyclades().createServer({ name: "plain", imageRef: other, flavorRef: 1 });
    await cyclades().waitForStatus(server.id, ["ACTIVE"], { intervalMs: 20 });
    await sleep(100);
    const info = await admin(server.id);
    assert.equal(info.process, null);
    assert.ok(existsSync(info.rootDir));
    assert.ok(!existsSync(join(info.rootDir, "started.json")));
  });
});

async function restart(next: DevcloudConfig = config): Promise<Devcloud> {
  await cloud.close();
  config = next;
  cloud = await startDevcloud({ dataDir: dir, config });
  return cloud;
}

describe("persistence", () => {
  it("keeps servers across a restart; close stops the agents and their processes are gone afterwards", async () => {
    const vm = await boot();
    const seen = await started(vm.root);
    const doomed = await cyclades().createServer({ name: "doomed", imageRef: AGENT_IMAGE_ID, flavorRef: 1 });
    await cyclades().waitForStatus(doomed.id, ["ACTIVE"], { intervalMs: 20 }); // no DELETE while building
    await cyclades().deleteServer(doomed.id);
    await restart();
    assert.ok(!alive(seen.pid) && !alive(seen.child), "close() stopped the agent group");
    const server = await cyclades().getServer(vm.id);
    assert.equal(server.status, "ACTIVE");
    assert.equal(server.name, "agent");
    assert.equal((await cyclades().getServer(doomed.id)).status, "DELETED");
    assert.equal((await admin(vm.id)).process?.state, "stopped");
    const next = await cyclades().createServer({ name: "next", imageRef: AGENT_IMAGE_ID, flavorRef: 1 });
    assert.ok(Number(next.id) > Number(doomed.id), "ids are not reused");
    const text = JSON.parse(await readFile(join(dir, "compute", "servers.json"), "utf8"));
    assert.ok(text.servers.some((s: { id: number }) => s.id === Number(vm.id)));
    await cyclades().waitForStatus(next.id, ["ACTIVE"], { intervalMs: 20 });
    await cyclades().deleteServer(next.id);
    await cyclades().deleteServer(vm.id);
  });

  it("after a crash, marks running processes gone and stops the orphans it can prove are its own", async () => {
    await cloud.close();
    // What a devcloud killed with SIGKILL leaves: a server whose agent still runs in the VM's root.
    const id = 900;
    const root = join(dir, "compute", "servers", String(id), "root");
    await mkdir(root, { recursive: true });
    const orphan = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
      cwd: root,
      detached: true,
      stdio: "ignore",
    });
    const pid = orphan.pid ?? 0;
    const file = join(dir, "compute", "servers.json");
    const stored = JSON.parse(await readFile(file, "utf8"));
    const now = Date.now();
    stored.servers.push({
      id,
      name: "orphaned",
      userId: config.users[0]?.uuid,
      project: config.users[0]?.uuid,
      flavorId: 1,
      vcpus: 1,
      ram: 1024,
      disk: 20,
      imageId: AGENT_IMAGE_ID,
      metadata: {},
      networks: [],
      operstate: "STARTED",
      deleted: false,
      taskState: "",
      created: now,
      updated: now,
      bootAt: now,
      agent: true,
      process: { pid, state: "running", startedAt: now },
    });
    await writeFile(file, JSON.stringify(stored));
    cloud = await startDevcloud({ dataDir: dir, config });
    await until("the orphan to be stopped", () => !alive(pid));
    assert.equal((await admin(String(id))).process?.state, "gone");
    assert.equal((await cyclades().getServer(String(id))).status, "ACTIVE");
  });
});
