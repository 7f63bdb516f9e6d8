/** @module cli.test — tests for icaas-prep: inspect, prepare options and exit codes, and a run as an unprivileged user. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { chmod, chown, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { main } from "./cli.ts";
import { runTool } from "./run-tool.ts";
import { buildTestDisk, fileContains } from "./testing/index.ts";

const CLI = fileURLToPath(new URL("./cli.ts", import.meta.url));

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

/** Whether uid 65534 can read the CLI and the workspace (not so when the checkout lives under /root). */
function readableByOthers(): boolean {
  for (let p = CLI; p !== dirname(p); p = dirname(p)) {
    const mode = statSync(p).mode;
    if (p === CLI ? (mode & 0o004) === 0 : (mode & 0o001) === 0) return false;
  }
  return true;
}

const AS_NOBODY = process.getuid?.() === 0 && readableByOthers();

/** Runs the real CLI in a child process, as uid/gid 65534 when the tests run as root. */
function spawnCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const asRoot = AS_NOBODY;
  const node = [process.execPath, "--import", "tsx", CLI, ...args];
  const [cmd, ...argv] = asRoot
    ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ...node]
    : node;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd as string, argv, {
      env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: tmpdir(), TMPDIR: tmpdir() },
      cwd: fileURLToPath(new URL("../../..", import.meta.url)),
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (b) => (out += b));
    child.stderr.on("data", (b) => (err += b));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, out, err }));
  });
}

describe("icaas-prep", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-cli-test-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("inspect prints the OS, and --json the whole inspection", async () => {
    const disk = await buildTestDisk({ path: join(dir, "inspect.raw"), fixture: "ubuntu1404-bitnami" });
    const text = await run(["inspect", disk.path]);
    assert.equal(text.code, 0);
    assert.match(text.out, /^OS: Ubuntu 14\.04\.6 LTS \(ubuntu 14\.04, debian family, upstart, apt\)$/m);
    assert.match(text.out, /^Users who can log in: bitnami$/m);
    assert.match(text.out, /^Bitnami: Bitnami WordPress Stack 4\.3\.1-0$/m);
    const json = await run(["inspect", disk.path, "--json"]);
    const parsed = JSON.parse(json.out);
    assert.equal(parsed.root.partition, 1);
    assert.equal(parsed.os.sshd.enabled, false);
  });

  it("prepare takes --enable/--disable/--param and prints metadata; bad names exit 2", async () => {
    const disk = await buildTestDisk({ path: join(dir, "prepare.raw"), swap: false });
    const bad = await run(["prepare", disk.path, "--disable", "cleanup-logs"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /invalid_option: unknown task "cleanup-logs"/);
    const r = await run([
      "prepare",
      disk.path,
      "--json",
      "--enable",
      "cleanup-mail",
      "--disable",
      "first-boot-update-software",
      "--param",
      "bootmenu_timeout=4",
      "--description",
      "Operator's image",
    ]);
    assert.equal(r.code, 0, r.err);
    const { metadata, tasks } = JSON.parse(r.out);
    assert.equal(metadata.DESCRIPTION, "Operator's image");
    assert.equal(metadata.USERS, "root admin alice nopass");
    const status = Object.fromEntries(tasks.map((t: { name: string; status: string }) => [t.name, t.status]));
    assert.equal(status["cleanup-mail"], "done");
    assert.equal(status["first-boot-update-software"], "disabled");
    assert.match(r.err, /^task change-bootmenu-timeout: \/etc\/default\/grub: GRUB_TIMEOUT=4$/m);
  });

  it("an unsupported image exits 3 naming why; --allow-unsupported prints its metadata", async () => {
    const path = join(dir, "noos.raw");
    await runTool("truncate", ["-s", "16M", path]);
    await runTool("sfdisk", ["--quiet", path], { input: "label: dos\nstart=2048,type=83\n" });
    const r = await run(["prepare", path]);
    assert.equal(r.code, 3);
    assert.match(r.err, /unsupported_image: the image cannot be prepared: no operating system found/);
    const ok = await run(["prepare", path, "--allow-unsupported"]);
    assert.equal(ok.code, 0);
    assert.match(ok.out, /^ {2}UNSUPPORTED=no operating system found/m);
    assert.match(ok.out, /^ {2}EXCLUDE_ALL_TASKS=yes$/m);
  });

  it("prepares and shrinks as a normal user (no root, no mount, no loop device)", async (t) => {
    if (process.getuid?.() === 0 && !AS_NOBODY) {
      t.diagnostic(
        "the checkout is not readable by uid 65534 here, so the CLI runs as root in this environment",
      );
    }
    const marker = `CLI-SECRET-${Math.random().toString(36).slice(2)}`;
    const sub = join(dir, "user");
    await runTool("mkdir", ["-p", sub]);
    const disk = await buildTestDisk({ path: join(sub, "user.raw"), label: "gpt", marker });
    if (AS_NOBODY) {
      await chown(sub, 65534, 65534);
      await chown(disk.path, 65534, 65534);
      await chmod(dir, 0o755);
    }
    const prep = await spawnCli(["prepare", disk.path, "--json"]);
    assert.equal(prep.code, 0, prep.err);
    assert.equal(JSON.parse(prep.out).metadata.USERS, "root admin alice nopass");
    const shrink = await spawnCli(["shrink", disk.path, "--json"]);
    assert.equal(shrink.code, 0, shrink.err);
    const s = JSON.parse(shrink.out);
    assert.equal(s.swap, "2:16");
    assert.equal((await stat(disk.path)).size, s.newSize);
    if (process.getuid?.() === 0)
      assert.equal((await stat(disk.path)).uid, 65534, "the image still belongs to the user");
    const fsck = await runTool("e2fsck", ["-fn", `${disk.path}?offset=${disk.rootOffset}`], {
      okCodes: [0, 1, 4],
    });
    assert.equal(fsck.code, 0, fsck.stdout);
    const sg = await runTool("sgdisk", ["-v", disk.path], { okCodes: [0, 1, 2, 3, 4] });
    assert.match(sg.stdout, /No problems found/);
    assert.ok(!(await fileContains(disk.path, marker)));
  });
});
