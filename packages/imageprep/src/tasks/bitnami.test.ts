/** @module tasks/bitnami.test — tests for the Bitnami task on the old Ubuntu 14.04 and the current Debian layouts. */
import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { describe, it } from "node:test";
import { prepareImage } from "../prepare.ts";
import { runTool } from "../run-tool.ts";
import { shrinkImage } from "../shrink.ts";
import { buildTestDisk, fileContains, guestCat, guestLs, guestStat, tempFiles } from "../testing/index.ts";
import { CHANGE_PASSWORD_HELPER, WELCOME_IPADDRESS } from "./bitnami.ts";

describe("Bitnami images", () => {
  const tempFile = tempFiles("icaas-bitnami-test-");

  it("old Ubuntu 14.04 stack: password script gone, welcome fixed, upstart ssh back, helper, first boot via upstart", async () => {
    const marker = `BITNAMI-SECRET-${Math.random().toString(36).slice(2)}`;
    const disk = await buildTestDisk({
      path: tempFile("ubuntu.raw"),
      fixture: "ubuntu1404-bitnami",
      features: "^metadata_csum,^64bit",
      marker,
    });
    const sshConfBefore = await guestStat(disk.path, disk.rootOffset, "/etc/init/ssh.conf.back");
    const r = await prepareImage(disk.path);
    assert.deepEqual(r.metadata, {
      OSFAMILY: "linux",
      ROOT_PARTITION: "1",
      OS: "bitnami",
      OSVERSION: "Ubuntu 14.04.6 LTS",
      DESCRIPTION: "Bitnami WordPress Stack 4.3.1-0",
      SORTORDER: "7801404",
      USERS: "bitnami",
      KERNEL: "3.13.0-170-generic",
      PARTITION_TABLE: "msdos",
      ALLOW_MOUNTED_TASK_OVERWRITING: "yes",
      REMOTE_CONNECTION: "ssh:port=22,user=bitnami",
    });
    const cat = async (p: string) => (await guestCat(disk.path, disk.rootOffset, p)) ?? "";
    assert.equal(await guestStat(disk.path, disk.rootOffset, "/home/bitnami/change-password.sh"), undefined);
    const welcome = await cat("/etc/init.d/welcome");
    assert.ok(welcome.includes(WELCOME_IPADDRESS));
    assert.equal((await guestStat(disk.path, disk.rootOffset, "/etc/init.d/welcome"))?.mode, 0o755);
    // The upstart job is moved back, keeping its inode (so its mode and owner).
    assert.equal(await guestStat(disk.path, disk.rootOffset, "/etc/init/ssh.conf.back"), undefined);
    const sshConf = await guestStat(disk.path, disk.rootOffset, "/etc/init/ssh.conf");
    assert.deepEqual([sshConf?.mode, sshConf?.size], [sshConfBefore?.mode, sshConfBefore?.size]);
    assert.equal(await cat("/root/snf-image/helper/overwrite_task_ChangePassword"), CHANGE_PASSWORD_HELPER);
    assert.equal(
      (await guestStat(disk.path, disk.rootOffset, "/root/snf-image/helper/overwrite_task_ChangePassword"))
        ?.mode,
      0o755,
    );
    // First boot on upstart: a job, and the Bitnami network management from host_run/bitnami.
    assert.match(
      await cat("/etc/init/icaas-first-boot.conf"),
      /^exec \/usr\/local\/sbin\/icaas-first-boot$/m,
    );
    const script = await cat("/usr/local/sbin/icaas-first-boot");
    assert.match(script, /apt-get -y install network-manager --no-install-recommends/);
    assert.match(script, /apt-get -y install acpid/);
    assert.match(script, /echo '\/sbin\/shutdown -h now "Power button pressed"' > \/etc\/acpi\/powerbtn\.sh/);
    assert.match(script, /initctl restart "\$u"/);
    assert.match(script, /rm -f "\$R\/etc\/init\/icaas-first-boot\.conf"/);
    assert.match(script, /^run_step install-network-management yes step_\d$/m);
    assert.match(
      await cat("/etc/init/icaas-ssh-keygen.conf"),
      /^start on \(starting ssh or starting sshd\)$/m,
    );
    assert.equal(
      await guestStat(disk.path, disk.rootOffset, "/etc/systemd/system/icaas-first-boot.service"),
      undefined,
    );
    assert.match(await cat("/etc/shadow"), /^bitnami:!:16000:/m);
    assert.match(await cat("/etc/fstab"), /^UUID=[0-9a-f-]+\s+\/\s+ext4/m);
    assert.deepEqual(
      (await guestLs(disk.path, disk.rootOffset, "/etc/ssh")).filter((n) => n.startsWith("ssh_host")),
      [],
    );

    const s = await shrinkImage(disk.path);
    assert.equal(s.swap, "2:16");
    assert.equal((await stat(disk.path)).size, s.newSize);
    const fsck = await runTool("e2fsck", ["-fn", `${disk.path}?offset=${disk.rootOffset}`], {
      okCodes: [0, 1, 4],
    });
    assert.equal(fsck.code, 0, fsck.stdout);
    assert.ok(!(await fileContains(disk.path, marker)));
  });

  it("current Debian stack: removes sshd_not_to_be_run and enables ssh.service", async () => {
    const disk = await buildTestDisk({
      path: tempFile("debian.raw"),
      swap: false,
      omit: ["/etc/systemd/system/multi-user.target.wants/ssh.service"],
      extraFiles: {
        "/etc/ssh/sshd_not_to_be_run": "",
        "/opt/bitnami/README.txt": "Bitnami Redmine 5.1.2-0\n",
        "/home/bitnami/change-password.sh": "#!/bin/sh\n",
      },
    });
    const r = await prepareImage(disk.path, { disable: ["first-boot-enable-remote-access"] });
    assert.equal(r.metadata.OS, "bitnami");
    assert.equal(r.metadata.DESCRIPTION, "Bitnami Redmine 5.1.2-0");
    assert.equal(r.metadata.OSVERSION, "Debian GNU/Linux 12 (bookworm)");
    assert.equal(r.metadata.SORTORDER, "7701211");
    const bitnami = r.tasks.find((t) => t.name === "bitnami");
    assert.equal(bitnami?.status, "done");
    assert.ok(bitnami?.changes.includes("removed /etc/ssh/sshd_not_to_be_run"));
    assert.equal(await guestStat(disk.path, disk.rootOffset, "/etc/ssh/sshd_not_to_be_run"), undefined);
    assert.equal(
      (await guestStat(disk.path, disk.rootOffset, "/etc/systemd/system/multi-user.target.wants/ssh.service"))
        ?.target,
      "/lib/systemd/system/ssh.service",
    );
    assert.match(r.metadata.REMOTE_CONNECTION ?? "", /^ssh:port=2222,user=admin/);
    const script = (await guestCat(disk.path, disk.rootOffset, "/usr/local/sbin/icaas-first-boot")) ?? "";
    assert.match(script, /apt-get -y install network-manager --no-install-recommends/);
  });
});
