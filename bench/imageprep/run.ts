/**
 * @module bench/imageprep — prepare + shrink of a 4 GiB disk holding ~600 MB of incompressible data,
 * against guestfish doing the same inspection and shrink (forced TCG) when libguestfs is installed.
 * Then prepare + shrink on the XFS, btrfs and LVM layouts (`layouts.ts`; as root).
 * Run: `npx tsx bench/imageprep/run.ts`. Writes bench/results/imageprep.json.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { cp, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { prepareImage, shrinkImage } from "@icaas/imageprep";
import { buildTestDisk } from "@icaas/imageprep/testing";
import { benchLayouts } from "./layouts.ts";

const GOAL_SECONDS = 10;
const DISK_MIB = 4096;
const SWAP_MIB = 256;
const DATA_FILES = 60;
const FILE_MIB = 10;
const RESULTS = fileURLToPath(new URL("../results/imageprep.json", import.meta.url));

function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

async function makeData(dir: string): Promise<number> {
  const chunk = Buffer.alloc(FILE_MIB << 20);
  let total = 0;
  await mkdir(join(dir, "srv/data"), { recursive: true });
  for (let i = 0; i < DATA_FILES; i++) {
    randomFillSync(chunk);
    await writeFile(join(dir, `srv/data/blob-${String(i).padStart(3, "0")}.bin`), chunk);
    total += chunk.length;
  }
  return total;
}

function hasGuestfish(): boolean {
  return spawnSync("sh", ["-c", "command -v guestfish"], { encoding: "utf8" }).status === 0;
}

/** The same inspection and shrink in one guestfish session (libguestfs appliance, TCG: no nested KVM here). */
function runGuestfish(image: string): Promise<{ seconds: number; ok: boolean; output: string }> {
  const script = [
    "run",
    "inspect-os",
    "inspect-get-distro /dev/sda1",
    "inspect-get-product-name /dev/sda1",
    "mount /dev/sda1 /",
    "cat /etc/shadow",
    "rm-rf /root/.bash_history",
    "umount-all",
    "e2fsck-f /dev/sda1",
    "resize2fs-M /dev/sda1",
    "part-del /dev/sda 2",
  ].join("\n");
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn("guestfish", ["--rw", "-a", image], {
      env: { ...process.env, LIBGUESTFS_BACKEND: "direct", LIBGUESTFS_BACKEND_SETTINGS: "force_tcg" },
    });
    let output = "";
    child.stdout.on("data", (b) => (output += b));
    child.stderr.on("data", (b) => (output += b));
    child.stdin.end(`${script}\n`);
    child.on("close", (code) =>
      resolve({ seconds: seconds(started), ok: code === 0, output: output.slice(-2000) }),
    );
  });
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "icaas-bench-imageprep-"));
  try {
    console.log(
      `bench/imageprep: building a ${DISK_MIB} MiB MBR disk with ${DATA_FILES * FILE_MIB} MiB of random data…`,
    );
    const extra = join(work, "extra");
    const dataBytes = await makeData(extra);
    const image = join(work, "disk.raw");
    const disk = await buildTestDisk({
      path: image,
      diskMiB: DISK_MIB,
      swapMiB: SWAP_MIB,
      blockSize: 4096,
      extraTree: extra,
    });
    await rm(extra, { recursive: true, force: true });
    const copy = join(work, "guestfish.raw");
    const guestfish = hasGuestfish();
    if (guestfish) await cp(image, copy);

    const t0 = process.hrtime.bigint();
    const prepared = await prepareImage(image);
    const prepareSeconds = seconds(t0);
    const t1 = process.hrtime.bigint();
    const shrunk = await shrinkImage(image);
    const shrinkSeconds = seconds(t1);
    const total = prepareSeconds + shrinkSeconds;
    const fsck = spawnSync("e2fsck", ["-fn", `${image}?offset=${disk.rootOffset}`], { encoding: "utf8" });
    const allocated = (await stat(image)).blocks * 512;

    const result: Record<string, unknown> = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
      disk: { sizeBytes: DISK_MIB * 1048576, dataBytes, swapMiB: SWAP_MIB, label: "dos", blockSize: 4096 },
      prepareSeconds: Number(prepareSeconds.toFixed(3)),
      shrinkSeconds: Number(shrinkSeconds.toFixed(3)),
      totalSeconds: Number(total.toFixed(3)),
      goalSeconds: GOAL_SECONDS,
      metGoal: total <= GOAL_SECONDS,
      oldSize: shrunk.oldSize,
      newSize: shrunk.newSize,
      allocatedBytes: allocated,
      swap: shrunk.swap,
      users: prepared.metadata.USERS,
      fsckClean: fsck.status === 0,
    };
    console.log(
      `  prepare ${prepareSeconds.toFixed(2)} s, shrink ${shrinkSeconds.toFixed(2)} s, total ${total.toFixed(2)} s (goal ≤ ${GOAL_SECONDS} s)`,
    );
    console.log(
      `  image ${shrunk.oldSize} → ${shrunk.newSize} bytes (${(allocated / 1048576).toFixed(0)} MiB allocated), e2fsck ${fsck.status === 0 ? "clean" : "NOT clean"}`,
    );

    if (guestfish) {
      const g = await runGuestfish(copy);
      result.guestfish = {
        ran: true,
        ok: g.ok,
        seconds: Number(g.seconds.toFixed(3)),
        ratio: Number((g.seconds / total).toFixed(2)),
      };
      console.log(
        `  guestfish (forced TCG) ${g.seconds.toFixed(2)} s${g.ok ? "" : " (failed)"}: ratio ${(g.seconds / total).toFixed(1)}×`,
      );
      if (!g.ok) console.log(g.output);
    } else {
      result.guestfish = {
        ran: false,
        reason: "guestfish is not installed (libguestfs-tools); comparison not run",
      };
      console.log(
        "  guestfish is not installed: the comparison was not run (libguestfs is ~700 MB; not installed on purpose)",
      );
    }
    if (process.getuid?.() === 0) {
      console.log("  other layouts:");
      result.layouts = await benchLayouts(work);
    } else result.layouts = { ran: false, reason: "needs root (loop devices and mounts)" };
    await mkdir(join(RESULTS, ".."), { recursive: true });
    await writeFile(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`  wrote ${RESULTS}`);
    if (fsck.status !== 0) process.exitCode = 1;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
