/**
 * @module bench/pithos-upload — Pithos hashmap upload vs `sha256sum` on the same 2 GiB file.
 *
 * The file is disk-like: a quarter random 4 MiB blocks, a quarter random with a zero tail, a quarter
 * holes (never written) and a quarter written zeros. `sha256sum` and the upload each run twice, one
 * after the other, and the best run counts. A "cold" upload goes to an empty devcloud (every distinct
 * block is sent, hashed and written by the server); a "warm" one finds every block stored (hash +
 * hashmap PUT only). The uploader runs in a child process; the devcloud runs in this process.
 * Writes bench/results/pithos-upload.json.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEMO_TOKEN, DEMO_USER_UUID, objectStoreFactory, startDevcloud } from "@icaas/devcloud";
import { PithosClient } from "@icaas/synnefo";
import { writeDiskLikeFile } from "@icaas/synnefo/testing";

const MiB = 1024 * 1024;
const BS = 4 * MiB;
const BLOCKS = 512;
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CHILD = fileURLToPath(new URL("./upload-child.ts", import.meta.url));
const RESULT = join(ROOT, "bench", "results", "pithos-upload.json");

interface UploadRun {
  seconds: number;
  wallSeconds: number;
  blocksSent: number;
  bytesRead: number;
  holeBlocks: number;
  zeroBlocks: number;
  extentSource: string;
  maxRssBytes: number;
  hash: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, maxBuffer: 16 * MiB, timeout: 600_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command}: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

async function timeSha256sum(path: string): Promise<{ seconds: number; hash: string }> {
  const started = process.hrtime.bigint();
  const out = await run("sha256sum", [path]);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, hash: out.split(" ")[0]! };
}

/** One upload into a devcloud; a fresh data dir makes it cold. */
async function upload(storeDir: string, name: string, path: string, findHoles = true): Promise<UploadRun> {
  const cloud = await startDevcloud({ dataDir: storeDir, services: [objectStoreFactory] });
  try {
    const storageUrl = `${cloud.url}/object-store/v1`;
    await new PithosClient({ storageUrl, account: DEMO_USER_UUID, token: DEMO_TOKEN }).createContainer(
      "bench",
    );
    const started = process.hrtime.bigint();
    const out = await run(
      process.execPath,
      ["--import", "tsx", CHILD, storageUrl, DEMO_USER_UUID, DEMO_TOKEN, "bench", name, path],
      { ...process.env, PITHOS_FIND_HOLES: findHoles ? "1" : "0" },
    );
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { ...(JSON.parse(out.trim().split("\n").at(-1)!) as UploadRun), wallSeconds };
  } finally {
    await cloud.close();
  }
}

function best<T extends { seconds: number }>(runs: T[]): T {
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

const mbps = (bytes: number, seconds: number) => Math.round((bytes / MiB / seconds) * 10) / 10;

// Other work on the machine slows sha256sum and the upload alike; record how busy it was.
const loadBefore = loadavg();
const work = await mkdtemp(join(tmpdir(), "icaas-bench-pithos-"));
try {
  const path = join(work, "disk.img");
  console.log(`making a ${(BLOCKS * BS) / 2 ** 30} GiB file with holes and random data…`);
  await writeDiskLikeFile(path, { blocks: BLOCKS, zeroTailBytes: 777_777, sync: true });
  const st = await stat(path);
  const size = st.size;

  const sums = [await timeSha256sum(path), await timeSha256sum(path)];
  const sum = best(sums);
  console.log(
    `sha256sum: ${sums.map((r) => r.seconds.toFixed(2)).join(" s, ")} s → ${mbps(size, sum.seconds)} MiB/s`,
  );

  const cold: UploadRun[] = [];
  for (let i = 0; i < 2; i++) {
    const dir = join(work, `cloud-cold-${i}`);
    cold.push(await upload(dir, "disk.img", path));
    await rm(dir, { recursive: true, force: true });
  }
  const warmDir = join(work, "cloud-warm");
  await mkdir(warmDir);
  await upload(warmDir, "seed.img", path);
  const warm = [await upload(warmDir, "again-1.img", path), await upload(warmDir, "again-2.img", path)];
  const warmRead = [
    await upload(warmDir, "read-1.img", path, false),
    await upload(warmDir, "read-2.img", path, false),
  ];
  await rm(warmDir, { recursive: true, force: true });

  const c = best(cold);
  const w = best(warm);
  const r = best(warmRead);
  const show = (label: string, runs: UploadRun[], b: UploadRun) =>
    console.log(
      `${label}: ${runs.map((x) => x.seconds.toFixed(2)).join(" s, ")} s → ${mbps(size, b.seconds)} MiB/s ` +
        `(ratio ${(sum.seconds / b.seconds).toFixed(2)}, blocks sent ${b.blocksSent}, ` +
        `read ${Math.round(b.bytesRead / MiB)} MiB, holes ${b.holeBlocks} via ${b.extentSource}, ` +
        `peak RSS ${Math.round(b.maxRssBytes / MiB)} MiB)`,
    );
  show("upload, cold (every block sent)", cold, c);
  show("upload, warm (no block sent)", warm, w);
  show("upload, warm, holes read", warmRead, r);
  const ratio = sum.seconds / c.seconds;
  const peakRss = Math.max(...[...cold, ...warm, ...warmRead].map((x) => x.maxRssBytes));
  console.log(
    `ratio upload/sha256sum (cold, best of 2): ${ratio.toFixed(2)} (goal ≥ 0.8); peak RSS ${Math.round(peakRss / MiB)} MiB`,
  );

  const result = {
    bench: "pithos-upload",
    date: new Date().toISOString(),
    machine: {
      nproc: cpus().length,
      cpu: cpus()[0]?.model ?? "",
      node: process.version,
      platform: process.platform,
      loadAverageBefore: loadBefore.map((x) => Math.round(x * 100) / 100),
    },
    file: {
      bytes: size,
      allocatedBytes: st.blocks * 512,
      blocks: BLOCKS,
      layout: "per 4 blocks: random, hole, written zeros, random with a zero tail",
    },
    sha256sum: {
      runsSeconds: sums.map((x) => x.seconds),
      bestSeconds: sum.seconds,
      mibPerSecond: mbps(size, sum.seconds),
    },
    upload: {
      cold: { runs: cold, bestSeconds: c.seconds, mibPerSecond: mbps(size, c.seconds) },
      warm: { runs: warm, bestSeconds: w.seconds, mibPerSecond: mbps(size, w.seconds) },
      warmHolesRead: { runs: warmRead, bestSeconds: r.seconds, mibPerSecond: mbps(size, r.seconds) },
    },
    ratio: Math.round(ratio * 100) / 100,
    ratioWarm: Math.round((sum.seconds / w.seconds) * 100) / 100,
    ratioWarmHolesRead: Math.round((sum.seconds / r.seconds) * 100) / 100,
    goal: 0.8,
    peakRssBytes: peakRss,
    sameHash: cold.every((x) => x.hash === c.hash) && warm.every((x) => x.hash === c.hash),
  };
  await mkdir(join(ROOT, "bench", "results"), { recursive: true });
  await writeFile(RESULT, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${RESULT}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
