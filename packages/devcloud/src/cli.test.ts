import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { AstakosClient, CycladesClient } from "@icaas/synnefo";
import { splitCommand } from "./cli.ts";
import { AGENT_IMAGE_ID, DEMO_TOKEN } from "./config.ts";

const CLI = fileURLToPath(new URL("./cli.ts", import.meta.url));

/** True while the process exists and is not a zombie (an exited child nobody reaped yet). */
function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

describe("splitCommand", () => {
  it("splits words, keeps quoted spaces and escapes, and refuses an open quote", () => {
    assert.deepEqual(splitCommand(`node  "my agent.js" --root {root} 'a b' c\\ d ""`), [
      "node",
      "my agent.js",
      "--root",
      "{root}",
      "a b",
      "c d",
      "",
    ]);
    assert.deepEqual(splitCommand('say "a \\"quoted\\" word"'), ["say", 'a "quoted" word']);
    assert.throws(() => splitCommand("node 'oops"), /unterminated/);
  });
});

describe("icaas-devcloud", () => {
  let dir: string;
  /** Every CLI started: one a failed test left running would keep the whole suite waiting. */
  const children = new Set<ChildProcess>();
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "devcloud-cli-"));
  });
  after(async () => {
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(10_000)]);
      child.kill("SIGKILL");
    }
    await rm(dir, { recursive: true, force: true });
  });

  /** Starts the CLI and waits for its banner; returns the process, its output so far and the URL. */
  async function start(args: string[]): Promise<{ child: ChildProcess; out: () => string; url: string }> {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", CLI, "--port", "0", "--data", join(dir, "data"), ...args],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    children.add(child);
    let out = "";
    child.stdout?.on("data", (d) => {
      out += d;
    });
    child.stderr?.on("data", (d) => {
      out += d;
    });
    // tsx compiles the CLI first: seconds on a loaded machine.
    const deadline = Date.now() + 60_000;
    while (!/agent: .*\n/.test(out)) {
      if (child.exitCode !== null) throw new Error(`the CLI exited: ${out}`);
      if (Date.now() > deadline) throw new Error(`no banner: ${out}`);
      await sleep(20);
    }
    const url = /listening on (\S+)/.exec(out)?.[1] ?? "";
    return { child, out: () => out, url };
  }

  async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill(signal);
    return exited;
  }

  it("prints the URL, the auth URL and the demo token, serves the APIs, and stops its VMs on SIGTERM", async () => {
    const agent = `${process.execPath} -e "require('fs').writeFileSync('pid', String(process.pid)); setInterval(() => {}, 1000)"`;
    await writeFile(join(dir, "config.json"), JSON.stringify({ bootSeconds: 0.05 }));
    const { child, out, url } = await start(["--config", join(dir, "config.json"), "--agent-command", agent]);
    assert.match(out(), /^devcloud listening on http:\/\/127\.0\.0\.1:\d+$/m);
    assert.match(out(), new RegExp(`auth URL: +${url}/identity/v2.0`));
    assert.match(out(), new RegExp(`demo token: ${DEMO_TOKEN}`));
    assert.match(out(), /synnefo: +0\.16$/m, "the strictest release by default");
    const { catalog } = await new AstakosClient({ authUrl: `${url}/identity/v2.0` }).authenticate(DEMO_TOKEN);
    const cyclades = new CycladesClient({ computeUrl: catalog.endpoint("compute"), token: DEMO_TOKEN });
    const server = await cyclades.createServer({ name: "cli", imageRef: AGENT_IMAGE_ID, flavorRef: 1 });
    await cyclades.waitForStatus(server.id, ["ACTIVE"], { intervalMs: 20 });
    const pidFile = join(dir, "data", "compute", "servers", server.id, "root", "pid");
    let pid = 0;
    // Node's start alone can take seconds on a loaded machine: poll for the file, bounded generously.
    for (const deadline = Date.now() + 60_000; !pid && Date.now() < deadline; ) {
      try {
        pid = Number(readFileSync(pidFile, "utf8"));
      } catch {
        await sleep(20);
      }
    }
    assert.ok(pid > 0, "the agent command ran in the VM's root");
    assert.equal(await stop(child, "SIGTERM"), 0);
    assert.match(out(), /SIGTERM: stopping/);
    assert.ok(!alive(pid), "the VM's process was stopped");

    // Same data directory: the server is still there. --synnefo picks the release it plays.
    const again = await start(["--synnefo", "latest"]);
    assert.match(again.out(), /synnefo: +latest$/m);
    const latest = await new AstakosClient({ authUrl: `${again.url}/identity/v2.0` }).catalog();
    assert.equal(
      latest.entries.find((e) => e.type === "image")?.endpoints[0]?.publicURL,
      `${again.url}/image`,
    );
    const kept = await new CycladesClient({
      computeUrl: `${again.url}/compute/v2.0`,
      token: DEMO_TOKEN,
    }).getServer(server.id);
    assert.equal(kept.name, "cli");
    assert.equal(kept.status, "ACTIVE");
    assert.match(again.out(), /agent: +none/);
    assert.equal(await stop(again.child, "SIGINT"), 0);
    const stored = JSON.parse(await readFile(join(dir, "data", "compute", "servers.json"), "utf8"));
    assert.equal(stored.servers.length, 1);
  });

  for (const [args, message] of [
    [["--port", "http"], /not a port number/],
    [["--synnefo", "0.18"], /one of 0\.16, 0\.17, 0\.19, 0\.20, latest/],
  ] as const) {
    it(`exits with a message on a bad option: ${args.join(" ")}`, async () => {
      const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let err = "";
      child.stderr?.on("data", (d) => {
        err += d;
      });
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      assert.notEqual(code, 0);
      assert.match(err, message);
    });
  }
});
