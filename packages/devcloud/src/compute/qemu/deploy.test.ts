import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdtemp, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readPartitionTable } from "@icaas/imageprep";
import {
  buildFamilyDisk,
  buildTestDisk,
  type FamilyDisk,
  guestCat,
  guestStat,
  leftovers,
  type ReadBackPartition,
  type TestDisk,
  withReadOnlyMounts,
} from "@icaas/imageprep/testing";
import { deployDisk, writeSparse } from "./deploy.ts";
import { planGrow } from "./disk-layout.ts";

const MiB = 1 << 20;
const DISK = 256 * MiB;
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDeployTestKeyDeployTestKeyDeployTest test@devcloud\n";
const SBIN = { PATH: `/usr/sbin:/sbin:${process.env.PATH}` };

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "devcloud-deploy-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const BITNAMI = {
  "/etc/passwd": "root:x:0:0:root:/root:/bin/bash\nbitnami:x:1000:1001:Bitnami:/home/bitnami:/bin/bash\n",
  "/etc/group": "root:x:0:\nbitnami:x:1001:\nadm:x:4:\n",
  "/etc/shadow": "root:*:19700:0:99999:7:::\nbitnami:!:19700:0:99999:7:::\n",
};

/** A prepared-looking image without swap, the way ICaaS publishes it, copied as the diskdump would be. */
async function diskdump(
  name: string,
  options: Partial<Parameters<typeof buildTestDisk>[0]> = {},
): Promise<TestDisk> {
  return buildTestDisk({
    path: join(dir, `${name}.img`),
    swap: false,
    diskMiB: 64,
    extraFiles: BITNAMI,
    ...options,
  });
}

async function deployCopy(
  image: { path: string; rootPartition?: number },
  name: string,
  options: Partial<Parameters<typeof deployDisk>[1]> = {},
) {
  const disk = join(dir, `${name}.disk`);
  await writeSparse(disk, createReadStream(image.path));
  const log: string[] = [];
  await deployDisk(disk, {
    sizeBytes: DISK,
    properties: {
      OSFAMILY: "linux",
      ROOT_PARTITION: String(image.rootPartition ?? 1),
      USERS: "root bitnami",
    },
    personality: [],
    password: "Secret0pass",
    log: (l) => log.push(l),
    ...options,
  });
  return { disk, log };
}

function dumpe2fs(disk: string, offset: number): { blocks: number; blockSize: number } {
  const out = execFileSync("dumpe2fs", ["-h", `${disk}?offset=${offset}`], {
    env: SBIN,
    stdio: ["ignore", "pipe", "ignore"],
  }).toString();
  return {
    blocks: Number(/Block count:\s+(\d+)/.exec(out)?.[1]),
    blockSize: Number(/Block size:\s+(\d+)/.exec(out)?.[1]),
  };
}

describe("qemu deploy (snf-image's steps on a raw disk)", () => {
  it("copies sparsely: a MiB of zeros stays a hole", async () => {
    const src = join(dir, "sparse-src");
    const data = Buffer.alloc(8 * MiB);
    data.fill(7, 0, 100);
    data.fill(9, 7 * MiB, 7 * MiB + 10);
    await writeFile(src, data);
    const out = join(dir, "sparse-out");
    assert.equal(await writeSparse(out, createReadStream(src, { highWaterMark: 64 * 1024 })), 8 * MiB);
    assert.deepEqual(await readFile(out), data);
    const st = await stat(out);
    assert.ok(st.blocks * 512 <= 2 * MiB + 64 * 1024, `only two MiB allocated, not ${st.blocks * 512}`);
  });

  it("grows the MBR root partition to 2048 sectors before the end, and its filesystem with it", async () => {
    const image = await diskdump("mbr");
    const before = dumpe2fs(image.path, image.rootOffset);
    const { disk, log } = await deployCopy(image, "mbr");
    assert.equal((await stat(disk)).size, DISK);
    const table = await readPartitionTable(disk);
    const root = table?.partitions.find((p) => p.number === image.rootPartition);
    assert.equal(root?.start, image.rootOffset / 512, "the start stays");
    assert.equal(root!.start + root!.size - 1, DISK / 512 - 1 - 2048);
    const after = dumpe2fs(disk, image.rootOffset);
    assert.equal(after.blockSize, before.blockSize);
    assert.equal(after.blocks, Math.floor((root!.size * 512) / after.blockSize));
    assert.ok(after.blocks > before.blocks);
    execFileSync("e2fsck", ["-fn", `${disk}?offset=${image.rootOffset}`], { env: SBIN, stdio: "ignore" });
    assert.ok(log.some((l) => l.startsWith("FilesystemResizeUnmounted:")));
  });

  it("writes personality files with their owner, group and mode; default root and 0440", async () => {
    const image = await diskdump("perso");
    const personality = [
      { path: "/root/.ssh/authorized_keys", contents: Buffer.from(KEY).toString("base64"), mode: 0o600 },
      {
        path: "/home/bitnami/notes/hello.txt",
        contents: Buffer.from("hi\n").toString("base64"),
        owner: "bitnami",
        group: "adm",
        mode: 0o640,
      },
      { path: "/etc/motd", contents: Buffer.from("welcome\n").toString("base64") },
    ];
    const { disk } = await deployCopy(image, "perso", { personality });
    const at = image.rootOffset;
    assert.equal(await guestCat(disk, at, "/root/.ssh/authorized_keys"), KEY);
    assert.deepEqual(
      (({ mode, uid, gid }) => ({ mode, uid, gid }))(
        (await guestStat(disk, at, "/root/.ssh/authorized_keys"))!,
      ),
      { mode: 0o600, uid: 0, gid: 0 },
    );
    const hello = await guestStat(disk, at, "/home/bitnami/notes/hello.txt");
    assert.deepEqual([hello?.mode, hello?.uid, hello?.gid], [0o640, 1000, 4]);
    const motd = await guestStat(disk, at, "/etc/motd");
    assert.deepEqual([motd?.mode, motd?.uid, motd?.gid], [0o440, 0, 0]);
    assert.equal(await guestCat(disk, at, "/etc/motd"), "welcome\n");
  });

  it("sets a SHA-512 crypt of the password for every user of USERS, and only for them", async () => {
    const image = await diskdump("password");
    const { disk } = await deployCopy(image, "password");
    const shadow = (await guestCat(disk, image.rootOffset, "/etc/shadow")) ?? "";
    for (const user of ["root", "bitnami"]) {
      const hash =
        shadow
          .split("\n")
          .find((l) => l.startsWith(`${user}:`))
          ?.split(":")[1] ?? "";
      assert.match(hash, /^\$6\$/);
      const salt = hash.split("$")[2] as string;
      const again = execFileSync("openssl", ["passwd", "-6", "-salt", salt, "-stdin"], {
        input: "Secret0pass\n",
      })
        .toString()
        .trim();
      assert.equal(again, hash, `${user}'s hash is of the password`);
    }
    const st = await guestStat(disk, image.rootOffset, "/etc/shadow");
    assert.equal(st?.mode, 0o640, "shadow keeps its mode");
  });

  it("makes swap from SWAP at the end of the disk and lists it in fstab", async () => {
    const image = await diskdump("swap");
    const { disk } = await deployCopy(image, "swap", {
      properties: { OSFAMILY: "linux", ROOT_PARTITION: "1", SWAP: "2:32" },
    });
    const table = await readPartitionTable(disk);
    const swap = table?.partitions.find((p) => p.number === 2);
    assert.equal(swap?.kind, "swap");
    assert.equal(swap?.size, 32 * 2048);
    assert.equal(swap!.start + swap!.size - 1, DISK / 512 - 1 - 2048);
    const root = table?.partitions.find((p) => p.number === 1);
    assert.equal(root!.start + root!.size, swap!.start, "the root ends where swap starts");
    const fh = await open(disk, "r");
    const sig = Buffer.alloc(10);
    await fh.read(sig, 0, 10, swap!.offset + 4096 - 10);
    await fh.close();
    assert.equal(sig.toString(), "SWAPSPACE2");
    const fstab = (await guestCat(disk, image.rootOffset, "/etc/fstab")) ?? "";
    assert.match(fstab, /\nUUID=[0-9a-f-]{36}\tnone\tswap\tsw\t0\t0\n$/);
  });

  it("moves the GPT backup header to the new end and grows the last partition", async () => {
    const image = await diskdump("gpt", { label: "gpt" });
    const { disk } = await deployCopy(image, "gpt");
    const verify = execFileSync("sgdisk", ["-v", disk], { env: SBIN }).toString();
    assert.match(verify, /No problems found/);
    const table = await readPartitionTable(disk);
    const root = table?.partitions.find((p) => p.number === image.rootPartition);
    assert.equal(root!.start + root!.size - 1, DISK / 512 - 1 - 2048);
  });

  it("fails clearly on a malformed SWAP, an unknown user, a missing owner, and a disk smaller than the image", async () => {
    const image = await diskdump("errors");
    const props = { OSFAMILY: "linux", ROOT_PARTITION: "1" };
    await assert.rejects(
      deployCopy(image, "e1", { properties: { ...props, SWAP: "two" } }),
      /SWAP property 'two' is not valid/,
    );
    await assert.rejects(
      deployCopy(image, "e2", { properties: { ...props, USERS: "nobody" } }),
      /User: 'nobody' does not exist/,
    );
    await assert.rejects(
      deployCopy(image, "e3", {
        properties: props,
        personality: [{ path: "/x", contents: "eA==", owner: "ghost" }],
      }),
      /no user 'ghost'/,
    );
    await assert.rejects(deployCopy(image, "e4", { sizeBytes: 32 * MiB }), /larger than the flavor's disk/);
  });
});

/** The root of a family disk as read back: where it is, and where `/` is below the mount. */
function familyRoot(family: "rhel" | "suse" | "rhel-lvm", d: FamilyDisk): ReadBackPartition & { at: string } {
  if (family === "rhel-lvm")
    return { ...(d.rootVolume as { offset: number; bytes: number }), type: "xfs", at: "" };
  const p1 = d.partitions[0] as FamilyDisk["partitions"][0];
  if (family === "rhel") return { offset: p1.offset, bytes: p1.bytes, type: "xfs", at: "" };
  return {
    offset: p1.offset,
    bytes: p1.bytes,
    type: "btrfs",
    options: "subvolid=5",
    at: "/@/.snapshots/1/snapshot",
  };
}

/** The family disks are 420 MiB. */
const FAMILY_DISK = 640 * MiB;

describe("qemu deploy of XFS, btrfs and LVM roots (through imageprep's mount backend)", () => {
  const cases = [
    { family: "rhel", users: "root rocky", rootPartition: "1", what: "XFS root partition" },
    { family: "suse", users: "root tux", rootPartition: "1", what: "btrfs root in a snapshot subvolume" },
    { family: "rhel-lvm", users: "root rocky", rootPartition: "2", what: "XFS root in an LVM volume" },
  ] as const;
  for (const c of cases) {
    it(`personalises a ${c.what}: files, passwords; the filesystem is left its size; nothing stays attached`, async () => {
      const image = await buildFamilyDisk(join(dir, `${c.family}.img`), c.family, "DEPLOY-MARKER");
      const personality = [
        { path: "/root/.ssh/authorized_keys", contents: Buffer.from(KEY).toString("base64"), mode: 0o600 },
      ];
      const { disk, log } = await deployCopy(image, c.family, {
        sizeBytes: FAMILY_DISK,
        properties: { OSFAMILY: "linux", ROOT_PARTITION: c.rootPartition, USERS: c.users },
        personality,
      });
      assert.deepEqual(await leftovers(disk), [], "no loop device or mount left");
      const root = familyRoot(c.family, image);
      await withReadOnlyMounts(disk, [root], async ([mnt]) => {
        const at = `${mnt}${root.at}`;
        assert.equal(await readFile(`${at}/root/.ssh/authorized_keys`, "utf8"), KEY);
        assert.equal((await stat(`${at}/root/.ssh/authorized_keys`)).mode & 0o7777, 0o600);
        const shadow = await readFile(`${at}/etc/shadow`, "utf8");
        for (const user of c.users.split(" "))
          assert.match(shadow, new RegExp(`^${user}:\\$6\\$`, "m"), `${user}'s new password`);
      });
      const last = image.partitions.at(-1) as FamilyDisk["partitions"][0];
      assert.ok(
        log.some((l) =>
          new RegExp(`FilesystemResizeUnmounted: partition ${last.number} holds \\w+, not grown`).test(l),
        ),
        log.join("\n"),
      );
    });
  }

  it("refuses a ROOT_PARTITION that does not hold the root", async () => {
    const image = await buildFamilyDisk(join(dir, "wrong-root.img"), "rhel-lvm", "DEPLOY-MARKER");
    await assert.rejects(
      deployCopy(image, "wrong-root", {
        sizeBytes: FAMILY_DISK,
        properties: { OSFAMILY: "linux", ROOT_PARTITION: "1", USERS: "root" },
      }),
      /ROOT_PARTITION is 1, but the root filesystem is on partition 2/,
    );
  });
});

describe("planGrow", () => {
  it("grows the extended container before its last logical partition", () => {
    const part = (number: number, start: number, size: number, kind: string, logical = false) =>
      ({
        number,
        start,
        size,
        offset: start * 512,
        bytes: size * 512,
        type: "83",
        kind,
        bootable: false,
        logical,
      }) as never;
    const plan = planGrow(
      {
        label: "dos",
        id: "0x1",
        sectorSize: 512,
        partitions: [
          part(1, 2048, 2048, "linux"),
          part(2, 4096, 8192, "extended"),
          part(5, 6144, 6144, "linux", true),
        ],
      },
      100_000,
    );
    assert.deepEqual(
      plan.resize.map((e) => [e.number, e.start, e.start + e.size - 1]),
      [
        [2, 4096, 100_000 - 1 - 2048],
        [5, 6144, 100_000 - 1 - 2048],
      ],
    );
  });
});
