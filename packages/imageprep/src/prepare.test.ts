/** @module prepare.test — tests for prepareImage: default and optional tasks, parameters, cloud-init, RHEL, dirty filesystems, rc.local. */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isImagePrepError } from "./errors.ts";
import { type Progress, prepareImage } from "./prepare.ts";
import { runTool } from "./run-tool.ts";
import { listTasks } from "./tasks/index.ts";
import {
  buildTestDisk,
  DEBIAN_FIXTURE_METADATA,
  guestCat,
  guestLs,
  guestStat,
  verifyPreparedDebian,
} from "./testing/index.ts";

async function fsckClean(image: string, offset: number): Promise<void> {
  const r = await runTool("e2fsck", ["-fn", `${image}?offset=${offset}`], { okCodes: [0, 1, 2, 4, 8] });
  assert.equal(r.code, 0, `e2fsck -fn found problems:\n${r.stdout}${r.stderr}`);
}

describe("prepareImage", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-prepare-test-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("runs the default tasks in order on Debian 12 and returns its metadata", async () => {
    const disk = await buildTestDisk({ path: join(dir, "default.raw") });
    const lines: string[] = [];
    const progress: Progress[] = [];
    const r = await prepareImage(disk.path, {
      log: (l) => lines.push(l),
      onProgress: (p) => progress.push(p),
    });
    const uuid = r.inspection.root?.filesystem.uuid as string;
    assert.deepEqual(r.metadata, DEBIAN_FIXTURE_METADATA);
    assert.deepEqual(
      r.tasks.map((t) => t.name),
      listTasks().map((t) => t.name),
    );
    const status = Object.fromEntries(r.tasks.map((t) => [t.name, t.status]));
    assert.equal(status.bitnami, "skipped");
    assert.equal(status["cleanup-mail"], "disabled");
    assert.equal(status["remove-user-accounts"], "disabled");
    assert.equal(status["cleanup-passwords"], "done");
    assert.equal(status["first-boot-install-network-management"], "skipped");
    assert.equal(
      status["first-boot-grow-root-filesystem"],
      "skipped",
      "an ext root on a partition: snf-image grows it",
    );
    assert.equal(status.shrink, "deferred");
    assert.equal(r.shrink, true);
    assert.ok(lines.some((l) => /^task cleanup-passwords: locked root .*admin/.test(l)));
    assert.ok(lines.some((l) => /^first boot: installed and enabled the systemd oneshot/.test(l)));
    assert.deepEqual(progress.at(-1), { phase: "discard", done: 1, total: 1 });
    assert.ok(progress.some((p) => p.phase === "tasks" && p.task === "cleanup-log"));
    await verifyPreparedDebian(disk.path, disk.rootOffset, uuid);
    await fsckClean(disk.path, disk.rootOffset);
  });

  it("runs off-by-default tasks when enabled, with parameters", async () => {
    const disk = await buildTestDisk({ path: join(dir, "enabled.raw"), swap: false });
    const r = await prepareImage(disk.path, {
      enable: ["cleanup-mail", "remove-user-accounts"],
      params: {
        bootmenu_timeout: "3",
        powerbtn_action: "/usr/sbin/poweroff",
        sensitive_userdata: ".bash_history,.zsh_history",
      },
    });
    const cat = async (p: string) => (await guestCat(disk.path, disk.rootOffset, p)) ?? "";
    // cleanup-mail (through the /var/spool/mail -> ../mail link too)
    assert.deepEqual(await guestLs(disk.path, disk.rootOffset, "/var/mail"), []);
    // remove-user-accounts: uid > 1000 go from passwd, shadow, group and /home; 1000 stays.
    const passwd = await cat("/etc/passwd");
    assert.match(passwd, /^admin:x:1000:/m);
    assert.doesNotMatch(passwd, /^(alice|locked|nopass):/m);
    assert.doesNotMatch(await cat("/etc/shadow"), /^(alice|locked|nopass):/m);
    assert.doesNotMatch(await cat("/etc/group"), /^(alice|locked|nopass):/m);
    assert.equal(await guestStat(disk.path, disk.rootOffset, "/home/alice"), undefined);
    assert.equal(await guestStat(disk.path, disk.rootOffset, "/home/nopass"), undefined);
    assert.equal(r.metadata.USERS, "root admin");
    // parameters
    assert.match(await cat("/etc/default/grub"), /^GRUB_TIMEOUT=3$/m);
    assert.match(await cat("/boot/grub/grub.cfg"), /^set timeout=3$/m);
    assert.match(await cat("/etc/acpi/events/powerbtn-acpi-support"), /^action=\/usr\/sbin\/poweroff$/m);
    // sensitive_userdata narrowed: histories go, keys stay.
    assert.equal(await guestStat(disk.path, disk.rootOffset, "/root/.bash_history"), undefined);
    assert.match(await cat("/home/admin/.ssh/authorized_keys"), /admin@laptop/);
    await fsckClean(disk.path, disk.rootOffset);
  });

  it("skips disabled tasks by name and judges remote access on the result", async () => {
    const disk = await buildTestDisk({ path: join(dir, "disabled.raw"), swap: false });
    const r = await prepareImage(disk.path, {
      disable: [
        "cleanup-log",
        "remove-ssh-host-keys",
        "first-boot-regenerate-ssh-host-keys",
        "first-boot-update-software",
        "first-boot-enable-remote-access",
      ],
    });
    assert.match((await guestCat(disk.path, disk.rootOffset, "/var/log/syslog")) ?? "", /Started/);
    assert.ok((await guestLs(disk.path, disk.rootOffset, "/etc/ssh")).includes("ssh_host_ed25519_key"));
    assert.equal(await guestStat(disk.path, disk.rootOffset, "/usr/local/sbin/icaas-first-boot"), undefined);
    assert.equal(
      await guestStat(disk.path, disk.rootOffset, "/etc/systemd/system/icaas-first-boot.service"),
      undefined,
    );
    // sshd is enabled in the image itself, so the metadata still offers it.
    assert.match(r.metadata.REMOTE_CONNECTION ?? "", /^ssh:port=2222,user=admin/);
    assert.equal(r.tasks.find((t) => t.name === "cleanup-log")?.status, "disabled");
  });

  it("refuses unknown task names and bad parameters before touching the image", async () => {
    const disk = await buildTestDisk({ path: join(dir, "typo.raw"), swap: false });
    const before = await runTool("sha256sum", [disk.path]);
    await assert.rejects(prepareImage(disk.path, { disable: ["cleanup-logs"] }), (e) =>
      isImagePrepError(e, "invalid_option"),
    );
    await assert.rejects(prepareImage(disk.path, { params: { bootmenu_timeout: "-1" } }), (e) =>
      isImagePrepError(e, "invalid_option"),
    );
    await assert.rejects(prepareImage(disk.path, { params: { no_such: "1" } }), (e) =>
      isImagePrepError(e, "invalid_option"),
    );
    assert.equal((await runTool("sha256sum", [disk.path])).stdout, before.stdout);
  });

  it("turns sshd on when the image had it off, and says so in REMOTE_CONNECTION", async () => {
    const disk = await buildTestDisk({
      path: join(dir, "sshoff.raw"),
      swap: false,
      omit: ["/etc/systemd/system/multi-user.target.wants/ssh.service"],
      extraFiles: { "/etc/ssh/sshd_not_to_be_run": "" },
    });
    const r = await prepareImage(disk.path, { description: "Custom description" });
    assert.equal(r.inspection.os?.sshd.enabled, false);
    const link = await guestStat(
      disk.path,
      disk.rootOffset,
      "/etc/systemd/system/multi-user.target.wants/ssh.service",
    );
    assert.equal(link?.target, "/lib/systemd/system/ssh.service");
    assert.equal(await guestStat(disk.path, disk.rootOffset, "/etc/ssh/sshd_not_to_be_run"), undefined);
    assert.equal(
      r.metadata.REMOTE_CONNECTION,
      "ssh:port=2222,user=admin ssh:port=2222,user=alice ssh:port=2222,user=nopass",
    );
    assert.equal(r.metadata.DESCRIPTION, "Custom description");
  });

  it("handles cloud-init images: USERS from cloud-init, renames the default user, enables root", async () => {
    const disk = await buildTestDisk({
      path: join(dir, "cloud.raw"),
      swap: false,
      extraFiles: {
        "/etc/cloud/cloud.cfg":
          "# cloud-init config\nusers:\n  - default\nsystem_info:\n  # the distro's user\n  default_user:\n    name: debian\n    sudo: ALL=(ALL) NOPASSWD:ALL\n",
        "/usr/lib/systemd/system-generators/cloud-init-generator": "#!/bin/sh\n",
      },
    });
    const r = await prepareImage(disk.path, {
      enable: ["rename-default-cloud-init-user", "enable-root-in-cloud-init"],
    });
    assert.equal(r.metadata.CLOUD_INIT, "yes");
    assert.equal(r.metadata.CLOUD_INIT_DEFAULT_USER, "user");
    assert.equal(r.metadata.USERS, "root user");
    const cfg = (await guestCat(disk.path, disk.rootOffset, "/etc/cloud/cloud.cfg")) ?? "";
    assert.match(cfg, /^ {4}name: user$/m);
    assert.match(cfg, /# the distro's user/, "comments survive the edit");
    assert.match(
      (await guestCat(disk.path, disk.rootOffset, "/etc/cloud/cloud.cfg.bak")) ?? "",
      /name: debian/,
    );
    const root =
      (await guestCat(disk.path, disk.rootOffset, "/etc/cloud/cloud.cfg.d/60_icaas-enable-root.cfg")) ?? "";
    assert.match(root, /^disable_root: false$/m);
    assert.match(root, /- root/);
  });

  it("repairs a filesystem that was not cleanly unmounted before editing it", async () => {
    const disk = await buildTestDisk({ path: join(dir, "dirty.raw"), swap: false });
    await runTool("debugfs", ["-w", "-R", "ssv state 0", `${disk.path}?offset=${disk.rootOffset}`]);
    const lines: string[] = [];
    await prepareImage(disk.path, { log: (l) => lines.push(l) });
    assert.ok(lines.some((l) => /not cleanly unmounted; running e2fsck -fy first/.test(l)));
    await fsckClean(disk.path, disk.rootOffset);
  });

  it("prepares a RHEL-family guest: yum or dnf, sshd.service, NetworkManager at first boot", async () => {
    const disk = await buildTestDisk({ path: join(dir, "centos.raw"), fixture: "centos7" });
    const r = await prepareImage(disk.path);
    const uuid = r.inspection.root?.filesystem.uuid as string;
    assert.deepEqual(r.metadata, {
      OSFAMILY: "linux",
      ROOT_PARTITION: "1",
      OS: "centos",
      OSVERSION: "7.9.2009",
      DESCRIPTION: "CentOS Linux 7 (Core)",
      SORTORDER: "7550709",
      USERS: "root",
      KERNEL: "3.10.0-1160.el7.x86_64",
      PARTITION_TABLE: "msdos",
      REMOTE_CONNECTION: "ssh:port=22,user=root",
    });
    const cat = async (p: string) => (await guestCat(disk.path, disk.rootOffset, p)) ?? "";
    const script = await cat("/usr/local/sbin/icaas-first-boot");
    assert.match(script, /^yum -y update$/m);
    assert.match(script, /^rpm -q NetworkManager >\/dev\/null 2>&1 \|\| yum -y install NetworkManager$/m);
    assert.match(script, /for u in NetworkManager\.service; do/);
    assert.match(script, /yum -y install openssh-server/);
    // /etc/shadow is mode 0000 on RHEL, and stays so.
    assert.equal((await guestStat(disk.path, disk.rootOffset, "/etc/shadow"))?.mode, 0);
    assert.match(await cat("/etc/shadow"), /^root:!:/m);
    const linux = (await cat("/boot/grub2/grub.cfg")).split("\n").find((l) => l.includes("linux16")) ?? "";
    assert.match(linux, /console=tty0 crashkernel=auto net\.ifnames=0$/);
    assert.match(
      await cat("/etc/default/grub"),
      /^GRUB_CMDLINE_LINUX="console=tty0 crashkernel=auto net\.ifnames=0"$/m,
    );
    assert.match(await cat("/etc/fstab"), new RegExp(`^UUID=${uuid} /`, "m"));
    assert.equal(await guestStat(disk.path, disk.rootOffset, "/var/cache/yum/packages.sqlite"), undefined);

    const fedora = await buildTestDisk({
      path: join(dir, "dnf.raw"),
      fixture: "centos7",
      swap: false,
      extraFiles: { "/usr/bin/dnf": "#!/bin/sh\n" },
    });
    await prepareImage(fedora.path, { params: { software_update: "refresh" } });
    const dnf = (await guestCat(fedora.path, fedora.rootOffset, "/usr/local/sbin/icaas-first-boot")) ?? "";
    assert.match(dnf, /^dnf -y makecache$/m);
    assert.match(dnf, /dnf -y install NetworkManager/);
  });

  it("falls back to rc.local on a guest without systemd or upstart", async () => {
    const disk = await buildTestDisk({
      path: join(dir, "sysv.raw"),
      fixture: "ubuntu1404-bitnami",
      swap: false,
      omit: ["/sbin/initctl", "/opt/bitnami"],
    });
    const r = await prepareImage(disk.path);
    assert.equal(r.inspection.os?.init, "sysvinit");
    const rc = (await guestCat(disk.path, disk.rootOffset, "/etc/rc.local")) ?? "";
    assert.match(rc, /\/usr\/local\/sbin\/icaas-first-boot \|\| true\nexit 0\n$/);
    assert.equal((await guestStat(disk.path, disk.rootOffset, "/etc/rc.local"))?.mode, 0o755);
    const script = (await guestCat(disk.path, disk.rootOffset, "/usr/local/sbin/icaas-first-boot")) ?? "";
    assert.match(script, /sed -i '\\#\/usr\/local\/sbin\/icaas-first-boot#d' "\$R\/etc\/rc\.local"/);
    // Nothing runs before the sysv ssh script: the keys are a first-boot step, then sshd restarts.
    assert.match(script, /^run_step regenerate-ssh-host-keys no step_1$/m);
    assert.match(script, /^if ! ssh-keygen -A; then$/m);
  });
});
