/** @module ssh-keygen-hook.test — host keys before sshd: the units load in systemd, and prepare installs them per init system. */
import assert from "node:assert/strict";
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FIRST_BOOT_SERVICE } from "./first-boot.ts";
import { FIRST_BOOT_SCRIPT, FIRST_BOOT_UNIT } from "./first-boot-script.ts";
import { prepareImage } from "./prepare.ts";
import { runTool } from "./run-tool.ts";
import {
  SSH_KEYGEN_SCRIPT,
  SSH_KEYGEN_SERVICE,
  SSH_KEYGEN_SH,
  SSH_KEYGEN_UNIT,
  SSH_KEYGEN_UPSTART,
} from "./ssh-keygen-hook.ts";
import { buildTestDisk, guestCat, guestStat } from "./testing/index.ts";

/** `[Section]` → key → values, as systemd reads a unit file. */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let section = "";
  for (const line of text.split("\n")) {
    const s = /^\[(\w+)\]$/.exec(line);
    if (s) section = s[1] as string;
    const kv = /^(\w+)=(.*)$/.exec(line);
    if (!kv) continue;
    const keys = out[section] ?? {};
    out[section] = keys;
    keys[kv[1] as string] = [...(keys[kv[1] as string] ?? []), kv[2] as string];
  }
  return out;
}

async function put(root: string, path: string, text: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), text);
  await chmod(join(root, path), mode);
}

describe("SSH host keys before sshd", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-keygen-test-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("the key unit is ordered before every sshd unit and socket, without network or default dependencies", () => {
    const u = parseUnit(SSH_KEYGEN_SERVICE);
    const before = (u.Unit?.Before ?? []).join(" ").split(/\s+/);
    for (const unit of ["ssh.service", "sshd.service", "ssh.socket", "sshd.socket"])
      assert.ok(before.includes(unit), unit);
    assert.deepEqual(
      u.Unit?.DefaultDependencies,
      ["no"],
      "default dependencies would order it after ssh.socket: a cycle",
    );
    assert.doesNotMatch(SSH_KEYGEN_SERVICE, /network/);
    assert.deepEqual(u.Service?.ExecStart, [SSH_KEYGEN_SCRIPT]);
    assert.deepEqual(u.Service?.Type, ["oneshot"]);
    const first = parseUnit(FIRST_BOOT_SERVICE);
    assert.deepEqual(
      first.Service?.StandardOutput,
      ["journal+console"],
      "status lines reach the serial console",
    );
  });

  it("systemd itself loads both units without a complaint (systemd-analyze verify --root)", async () => {
    const root = await mkdtemp(join(dir, "root-"));
    await put(root, SSH_KEYGEN_UNIT, SSH_KEYGEN_SERVICE);
    await put(root, FIRST_BOOT_UNIT, FIRST_BOOT_SERVICE);
    await put(root, SSH_KEYGEN_SCRIPT, SSH_KEYGEN_SH, 0o755);
    await put(root, FIRST_BOOT_SCRIPT, "#!/bin/sh\n", 0o755);
    // The host's own targets (sysinit, network-online, …), as a guest has them.
    await cp("/usr/lib/systemd/system", join(root, "usr/lib/systemd/system"), {
      recursive: true,
      verbatimSymlinks: true,
    });
    const r = await runTool(
      "systemd-analyze",
      ["verify", `--root=${root}`, SSH_KEYGEN_UNIT, FIRST_BOOT_UNIT],
      {
        okCodes: [0, 1],
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.trim(), "", r.stderr);
  });

  it("the key script is valid sh", async () => {
    await runTool("dash", ["-n", "-c", SSH_KEYGEN_SH]);
  });

  it("prepare installs the unit on systemd guests and links it from multi-user.target and every sshd unit", async () => {
    const disk = await buildTestDisk({ path: join(dir, "systemd.raw"), swap: false });
    const r = await prepareImage(disk.path);
    const task = r.tasks.find((x) => x.name === "first-boot-regenerate-ssh-host-keys");
    assert.equal(task?.status, "done");
    assert.equal(await guestCat(disk.path, disk.rootOffset, SSH_KEYGEN_UNIT), SSH_KEYGEN_SERVICE);
    const script = await guestStat(disk.path, disk.rootOffset, SSH_KEYGEN_SCRIPT);
    assert.equal(script?.mode, 0o755);
    for (const unit of ["multi-user.target", "ssh.service", "sshd.service", "ssh.socket", "sshd.socket"]) {
      const link = await guestStat(
        disk.path,
        disk.rootOffset,
        `/etc/systemd/system/${unit}.wants/icaas-ssh-keygen.service`,
      );
      assert.equal(link?.target, SSH_KEYGEN_UNIT, unit);
    }
    // The keys are not a first-boot step any more: sshd must not wait for the network-bound script.
    const firstBoot = (await guestCat(disk.path, disk.rootOffset, FIRST_BOOT_SCRIPT)) ?? "";
    assert.doesNotMatch(firstBoot, /ssh-keygen/);
    assert.match(firstBoot, /^run_step update-software yes step_\d$/m);
    assert.match(
      firstBoot,
      /^run_step enable-remote-access no step_\d$/m,
      "sshd is installed: no network needed",
    );
  });

  it("prepare installs an upstart task on `starting ssh` for upstart guests", async () => {
    const disk = await buildTestDisk({
      path: join(dir, "upstart.raw"),
      fixture: "ubuntu1404-bitnami",
      swap: false,
    });
    await prepareImage(disk.path);
    const job = (await guestCat(disk.path, disk.rootOffset, SSH_KEYGEN_UPSTART)) ?? "";
    assert.match(job, /^start on \(starting ssh or starting sshd\)$/m);
    assert.match(job, /^task$/m);
    assert.match(job, new RegExp(`^exec ${SSH_KEYGEN_SCRIPT}$`, "m"));
  });
});
