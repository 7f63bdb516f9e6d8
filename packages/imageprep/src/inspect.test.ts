/** @module inspect.test — tests for inspectImage: OS details, cloud-init, and every reason an image is unsupported. */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isImagePrepError } from "./errors.ts";
import { inspectImage } from "./inspect.ts";
import { prepareImage } from "./prepare.ts";
import { runTool } from "./run-tool.ts";
import { buildDisk, buildTestDisk, type DiskSpec, FIXTURES_DIR } from "./testing/index.ts";

describe("inspectImage", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-inspect-test-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("describes a Debian 12 disk: root, distro, kernel, login users, sshd and init", async () => {
    const disk = await buildTestDisk({ path: join(dir, "debian.raw"), label: "gpt", biosBoot: true });
    const i = await inspectImage(disk.path);
    assert.equal(i.unsupported, undefined);
    assert.equal(i.partitionTable?.label, "gpt");
    assert.deepEqual(
      i.partitions.map((p) => [p.number, p.kind, p.filesystem.type]),
      [
        [1, "bios-boot", "unknown"],
        [2, "linux", "ext4"],
        [3, "swap", "swap"],
      ],
    );
    assert.equal(i.root?.partition, 2);
    assert.equal(i.root?.offset, 2 * 1048576);
    const os = i.os;
    assert.ok(os);
    assert.deepEqual(
      [os.distro, os.family, os.version, os.major, os.minor, os.description],
      ["debian", "debian", "12.11", 12, 11, "Debian GNU/Linux 12 (bookworm)"],
    );
    assert.equal(os.kernel, "6.1.0-13-amd64", "the newest kernel, compared as numbers");
    // svc has a hash but a nologin shell; locked has "!hash"; daemon "*"; nopass has an empty password.
    assert.deepEqual(os.users, ["root", "admin", "alice", "nopass"]);
    assert.equal(os.init, "systemd");
    assert.equal(os.packageManager, "apt");
    assert.deepEqual(os.sshd, { installed: true, enabled: true, port: 2222, permitRootLogin: "no" });
    assert.equal(os.hostname, "debian-test");
    assert.equal(os.cloudInit.enabled, false);
    assert.equal(os.bitnami, undefined);
  });

  it("describes an Ubuntu 14.04 Bitnami stack: upstart, sshd switched off, one user", async () => {
    const disk = await buildTestDisk({
      path: join(dir, "bitnami.raw"),
      fixture: "ubuntu1404-bitnami",
      features: "^metadata_csum,^64bit",
    });
    const os = (await inspectImage(disk.path)).os;
    assert.ok(os);
    assert.deepEqual([os.distro, os.version, os.description], ["ubuntu", "14.04", "Ubuntu 14.04.6 LTS"]);
    assert.equal(os.init, "upstart");
    assert.deepEqual(os.users, ["bitnami"]);
    assert.deepEqual(os.sshd, {
      installed: true,
      enabled: false,
      port: 22,
      permitRootLogin: "without-password",
    });
    assert.deepEqual(os.bitnami, { title: "Bitnami WordPress Stack 4.3.1-0" });
    assert.equal(os.kernel, "3.13.0-170-generic");
  });

  it("sees cloud-init and the users it will create", async () => {
    const disk = await buildTestDisk({
      path: join(dir, "cloud.raw"),
      swap: false,
      extraFiles: {
        "/etc/cloud/cloud.cfg":
          "users:\n  - default\n  - name: ops\n  - name: daemonish\n    system: true\nsystem_info:\n  default_user:\n    name: debian\n",
        "/usr/lib/systemd/system-generators/cloud-init-generator": "#!/bin/sh\n",
      },
    });
    const os = (await inspectImage(disk.path)).os;
    assert.deepEqual(os?.cloudInit, {
      enabled: true,
      defaultUser: "debian",
      users: ["debian", "ops"],
      files: ["/etc/cloud/cloud.cfg"],
    });
  });

  /** An image built by {@link buildDisk} from `spec`, at `name` in the test's directory. */
  const disk = (name: string, spec: DiskSpec) => async () => {
    const p = join(dir, name);
    await buildDisk(p, spec);
    return p;
  };
  const unsupported: Array<[string, () => Promise<string>, RegExp]> = [
    [
      "an LVM label without a readable volume group",
      disk("lvm.raw", {
        label: "dos",
        sizeMiB: 32,
        partitions: [
          { sizeMiB: 8, fs: "ext4" },
          { sizeMiB: 20, fs: "lvm" },
        ],
      }),
      /no readable root filesystem: partition 2 is an LVM physical volume in no volume group$/,
    ],
    [
      "an XFS filesystem without an OS (mounted read-only to look)",
      disk("xfs.raw", { label: "gpt", sizeMiB: 32, partitions: [{ sizeMiB: 28, fs: "xfs" }] }),
      /no operating system found: no ext2\/3\/4, XFS or btrfs partition holds \/etc\/fstab/,
    ],
    [
      "no OS",
      disk("empty.raw", { label: "dos", sizeMiB: 32, partitions: [{ sizeMiB: 28, fs: "ext4" }] }),
      /no operating system found: no ext2\/3\/4, XFS or btrfs partition holds \/etc\/fstab/,
    ],
    [
      "several roots",
      disk("two.raw", {
        label: "gpt",
        sizeMiB: 64,
        partitions: [
          { sizeMiB: 30, fs: "ext4", tree: join(FIXTURES_DIR, "debian12") },
          { sizeMiB: 30, fs: "ext4", tree: join(FIXTURES_DIR, "debian12") },
        ],
      }),
      /several operating systems found \(partitions 1 and 2 each hold \/etc\/fstab\)/,
    ],
    [
      "no partition table",
      async () => {
        const p = join(dir, "bare.raw");
        await writeFile(p, Buffer.alloc(0));
        await runTool("truncate", ["-s", "32M", p]);
        await runTool("mkfs.ext4", ["-q", "-F", p]);
        return p;
      },
      /no partition table \(it holds a bare ext4 filesystem\)/,
    ],
  ];
  for (const [what, make, why] of unsupported) {
    it(`names why an image is unsupported: ${what}`, async () => {
      const path = await make();
      const i = await inspectImage(path);
      assert.match(i.unsupported ?? "", why);
      await assert.rejects(prepareImage(path), (e) => {
        assert.ok(isImagePrepError(e, "unsupported_image"));
        assert.match(e.message, why);
        return true;
      });
    });
  }

  it("with allowUnsupported runs no task, changes nothing and still returns metadata", async () => {
    const p = join(dir, "lvm2.raw");
    await buildDisk(p, { label: "gpt", sizeMiB: 32, partitions: [{ sizeMiB: 20, fs: "lvm" }] });
    const before = await runTool("sha256sum", [p]);
    const r = await prepareImage(p, { allowUnsupported: true, description: "My LVM image" });
    assert.match(r.metadata.UNSUPPORTED ?? "", /LVM/);
    assert.equal(r.metadata.EXCLUDE_ALL_TASKS, "yes");
    assert.equal(r.metadata.PARTITION_TABLE, "gpt");
    assert.equal(r.metadata.DESCRIPTION, "My LVM image");
    assert.ok(r.tasks.every((t) => t.status === "skipped" || t.status === "disabled"));
    assert.equal(r.shrink, false);
    assert.equal((await runTool("sha256sum", [p])).stdout, before.stdout);
  });

  it("refuses files that are not raw disks", async () => {
    const q = join(dir, "disk.qcow2");
    await runTool("qemu-img", ["create", "-q", "-f", "qcow2", q, "64M"]);
    await assert.rejects(
      inspectImage(q),
      (e) => isImagePrepError(e, "invalid_image") && /qcow2/.test(e.message),
    );
    await assert.rejects(inspectImage(join(dir, "missing.raw")), (e) => isImagePrepError(e, "invalid_image"));
  });
});
