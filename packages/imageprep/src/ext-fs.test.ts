/** @module ext-fs.test — tests for the debugfs seam: guest links, listings, edits that keep modes/owners/xattrs, fsck-clean. */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isImagePrepError } from "./errors.ts";
import { openExtFs, withExtFs } from "./ext-fs.ts";
import { runTool } from "./run-tool.ts";
import { buildTestDisk, guestCat, guestLs, guestStat, type TestDisk } from "./testing/index.ts";

async function fsckClean(image: string, offset: number): Promise<void> {
  const r = await runTool("e2fsck", ["-fn", `${image}?offset=${offset}`], { okCodes: [0, 1, 2, 4, 8] });
  assert.equal(r.code, 0, `e2fsck found problems:\n${r.stdout}${r.stderr}`);
}

describe("ext-fs (debugfs seam)", () => {
  let dir: string;
  let disk: TestDisk;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-extfs-test-"));
    disk = await buildTestDisk({ path: join(dir, "disk.raw"), blockSize: 1024 });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads files through the guest's own links, never the host's", async () => {
    await withExtFs(disk.path, disk.rootOffset, async (fs) => {
      // /etc/os-release -> ../usr/lib/os-release (relative)
      assert.match((await fs.readText("/etc/os-release")) ?? "", /^ID=debian$/m);
      // multi-user.target.wants/ssh.service -> /lib/systemd/system/ssh.service, and /lib -> usr/lib
      assert.equal(
        await fs.realpath("/etc/systemd/system/multi-user.target.wants/ssh.service"),
        "/usr/lib/systemd/system/ssh.service",
      );
      assert.match(
        (await fs.readText("/etc/systemd/system/sshd.service")) ?? "",
        /ExecStart=\/usr\/sbin\/sshd/,
      );
      // An absolute link target means the guest root: /var/lib/dbus/machine-id -> /etc/machine-id.
      assert.equal(
        (await fs.readText("/var/lib/dbus/machine-id"))?.trim(),
        "4c1e6a5a0f3e4a5b9b0d8c7e6f5a4b3c",
      );
      assert.equal(await fs.readlink("/var/lib/dbus/machine-id"), "/etc/machine-id");
      const [fstab, missing, passwd] = await fs.readTexts(["/etc/fstab", "/no/such/file", "/etc/passwd"]);
      assert.match(fstab ?? "", /^\/dev\/sda1\s+\/\s+ext4/m);
      assert.equal(missing, undefined);
      assert.match(passwd ?? "", /^admin:x:1000:/m);
      assert.equal(await fs.readText("/etc"), undefined, "a directory is not a readable file");
      await assert.rejects(fs.readFile("/etc/nothing"), (e) => isImagePrepError(e, "not_found"));
    });
  });

  it("lists and walks directories with types, modes and owners", async () => {
    await withExtFs(disk.path, disk.rootOffset, async (fs) => {
      const home = await fs.list("/home/admin");
      const ssh = home.find((e) => e.name === ".ssh");
      assert.deepEqual(
        { type: ssh?.type, mode: ssh?.mode, uid: ssh?.uid, gid: ssh?.gid },
        { type: "dir", mode: 0o700, uid: 1000, gid: 1000 },
      );
      assert.ok(!home.some((e) => e.name === "." || e.name === ".."));
      const logs = (await fs.walk("/var/log")).map((e) => e.path).sort();
      assert.deepEqual(logs, [
        "/var/log/apt",
        "/var/log/apt/history.log",
        "/var/log/auth.log",
        "/var/log/journal",
        "/var/log/syslog",
        "/var/log/wtmp",
      ]);
      assert.deepEqual(await fs.list("/nowhere"), []);
      assert.equal((await fs.lstat("/lib"))?.type, "symlink");
      assert.equal((await fs.stat("/lib"))?.type, "dir");
      assert.equal((await fs.stat("/"))?.type, "dir");
    });
  });

  it("looks up a deep path with one debugfs run for the directories on its way, links included", async () => {
    // A debugfs on PATH that counts its runs, then runs the real one.
    const bin = join(dir, "counting-bin");
    const runs = join(dir, "debugfs-runs");
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, "debugfs"), `#!/bin/sh\necho run >> '${runs}'\nexec /usr/sbin/debugfs "$@"\n`, {
      mode: 0o755,
    });
    const count = async () => (await readFile(runs, "utf8").catch(() => "")).split("\n").length - 1;
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      await withExtFs(disk.path, disk.rootOffset, async (fs) => {
        const opened = await count();
        // "/", "/var", "/var/log" and "/var/log/apt" in one run, then the file's dump.
        assert.match((await fs.readText("/var/log/apt/history.log")) ?? "", /\S/);
        assert.equal((await count()) - opened, 2);
        // /lib is a link (to usr/lib): what lies past it is not taken from the prefetch.
        assert.match(
          (await fs.readText("/lib/systemd/system/ssh.service")) ?? "",
          /ExecStart=\/usr\/sbin\/sshd/,
        );
        assert.equal((await fs.stat("/lib/systemd/system"))?.type, "dir");
        assert.equal(
          await fs.realpath("/lib/systemd/system/ssh.service"),
          "/usr/lib/systemd/system/ssh.service",
        );
        assert.equal(await fs.readText("/var/log/nothing/here/at/all"), undefined);
        assert.equal(await fs.readText("/etc/fstab/not/a/dir"), undefined);
      });
    } finally {
      process.env.PATH = path;
    }
  });

  it("replaces a file keeping its mode, owner and extended attributes, then stays fsck-clean", async () => {
    // A SELinux label, as on RHEL guests: a rewritten /etc/shadow without it would lock everyone out.
    await runTool("debugfs", [
      "-w",
      "-R",
      'ea_set /etc/shadow security.selinux "system_u:object_r:shadow_t:s0"',
      `${disk.path}?offset=${disk.rootOffset}`,
    ]);
    await withExtFs(disk.path, disk.rootOffset, async (fs) => {
      await fs.writeFile("/etc/shadow", "root:!:19700:0:99999:7:::\n");
      await fs.writeFile("/etc/new-file", "fresh\n", { mode: 0o600, uid: 1000, gid: 1001 });
    });
    assert.equal(await guestCat(disk.path, disk.rootOffset, "/etc/shadow"), "root:!:19700:0:99999:7:::\n");
    const shadow = await guestStat(disk.path, disk.rootOffset, "/etc/shadow");
    assert.deepEqual(
      { mode: shadow?.mode, uid: shadow?.uid, gid: shadow?.gid },
      { mode: 0o640, uid: 0, gid: 42 },
    );
    const ea = await runTool("debugfs", [
      "-R",
      "ea_list /etc/shadow",
      `${disk.path}?offset=${disk.rootOffset}`,
    ]);
    assert.match(ea.stdout, /security\.selinux .*shadow_t/);
    const fresh = await guestStat(disk.path, disk.rootOffset, "/etc/new-file");
    assert.deepEqual(
      { mode: fresh?.mode, uid: fresh?.uid, gid: fresh?.gid },
      { mode: 0o600, uid: 1000, gid: 1001 },
    );
    await fsckClean(disk.path, disk.rootOffset);
  });

  it("writes through a link to its guest target and empties files in place", async () => {
    const before = await guestStat(disk.path, disk.rootOffset, "/var/log/auth.log");
    await withExtFs(disk.path, disk.rootOffset, async (fs) => {
      await fs.truncate("/var/lib/dbus/machine-id");
      await fs.truncate("/var/log/auth.log");
    });
    assert.equal((await guestStat(disk.path, disk.rootOffset, "/etc/machine-id"))?.size, 0);
    assert.equal((await guestStat(disk.path, disk.rootOffset, "/var/lib/dbus/machine-id"))?.type, "symlink");
    const auth = await guestStat(disk.path, disk.rootOffset, "/var/log/auth.log");
    assert.deepEqual(
      { size: auth?.size, mode: auth?.mode, uid: auth?.uid, gid: auth?.gid },
      { size: 0, mode: before?.mode, uid: before?.uid, gid: before?.gid },
    );
    await fsckClean(disk.path, disk.rootOffset);
  });

  it("creates, moves and removes entries, odd names included", async () => {
    await withExtFs(disk.path, disk.rootOffset, async (fs) => {
      await fs.mkdir('/srv/a "quoted" dir/deeper', { parents: true, mode: 0o750, uid: 33, gid: 33 });
      await fs.writeFile('/srv/a "quoted" dir/deeper/file with space', "x");
      await fs.symlink("/srv/link", '/srv/a "quoted" dir', { uid: 1000, gid: 1000 });
      await fs.chmod("/etc/hostname", 0o600);
      await fs.chown("/etc/hostname", 1000, 1001);
      await fs.rename(
        "/etc/NetworkManager/system-connections/Wired-office.nmconnection",
        "/root/moved.nmconnection",
      );
      assert.equal(await fs.remove("/root/.profile"), true);
      assert.equal(await fs.remove("/root/.profile"), false);
      assert.equal(
        await fs.removeTrees(["/var/tmp/systemd-private-abc", "/tmp/.X11-unix", "/tmp/absent"]),
        4,
      );
      assert.equal(await fs.readText("/srv/link/deeper/file with space"), "x");
    });
    const deeper = await guestStat(disk.path, disk.rootOffset, '/srv/a "quoted" dir/deeper');
    assert.deepEqual(
      { type: deeper?.type, mode: deeper?.mode, uid: deeper?.uid },
      { type: "directory", mode: 0o750, uid: 33 },
    );
    assert.equal((await guestStat(disk.path, disk.rootOffset, "/srv/link"))?.target, '/srv/a "quoted" dir');
    const host = await guestStat(disk.path, disk.rootOffset, "/etc/hostname");
    assert.deepEqual(
      { mode: host?.mode, uid: host?.uid, gid: host?.gid },
      { mode: 0o600, uid: 1000, gid: 1001 },
    );
    const moved = await guestStat(disk.path, disk.rootOffset, "/root/moved.nmconnection");
    assert.equal(moved?.mode, 0o600);
    assert.deepEqual(await guestLs(disk.path, disk.rootOffset, "/etc/NetworkManager/system-connections"), []);
    assert.deepEqual(await guestLs(disk.path, disk.rootOffset, "/var/tmp"), []);
    assert.ok(!(await guestLs(disk.path, disk.rootOffset, "/tmp")).includes(".X11-unix"));
    await fsckClean(disk.path, disk.rootOffset);
  });

  it("leaves the partition table and the other partitions alone", async () => {
    const image = await readFile(disk.path);
    const table = image.subarray(0, 512);
    const swap = image.subarray(disk.size - 16 * 1048576, disk.size - 16 * 1048576 + 4096);
    await withExtFs(disk.path, disk.rootOffset, async (fs) => {
      await fs.writeFile("/etc/motd", "hello\n");
    });
    const after = await readFile(disk.path);
    assert.ok(after.subarray(0, 512).equals(table));
    assert.ok(after.subarray(disk.size - 16 * 1048576, disk.size - 16 * 1048576 + 4096).equals(swap));
    assert.equal(after.length, image.length);
  });

  it("refuses an offset with no ext filesystem", async () => {
    await assert.rejects(openExtFs(disk.path, 512), (e) => isImagePrepError(e, "invalid_image"));
  });
});
