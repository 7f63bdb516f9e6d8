import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, createReadStream, openSync, writeSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { DEMO_TOKEN, DEMO_USER_UUID, type Devcloud, type ObjectStoreModule } from "@icaas/devcloud";
import { hashFile } from "./block-hasher.ts";
import { SynnefoError } from "./errors.ts";
import { emptyBlockHash, merkleHash } from "./merkle.ts";
import { PithosClient, type UploadFileResult } from "./pithos.ts";
import { writeDiskLikeFile } from "./testing/disk-like-file.ts";
import { type PithosDevcloud, startPithosDevcloud } from "./testing/index.ts";

const MiB = 1024 * 1024;
const BS = 4 * MiB;
const CHILD = fileURLToPath(new URL("./hashmap-upload-child.ts", import.meta.url));

/** A disk-like file of `blocks` 4 MiB blocks (every kind of block) plus a short random tail. */
function makeDisk(path: string, blocks: number): Promise<void> {
  return writeDiskLikeFile(path, { blocks, zeroTailBytes: 123_457, extraTailBytes: 12_345 });
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

function runChild(args: string[]): Promise<UploadFileResult & { seconds: number; maxRssBytes: number }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", CHILD, ...args],
      { maxBuffer: 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout.trim().split("\n").at(-1)!));
      },
    );
  });
}

describe("hashmap upload against devcloud", () => {
  let stack: PithosDevcloud;
  let dir: string;
  let cloud: Devcloud;
  let pithos: PithosClient;
  const counter = async (name: string) => cloud.counters.get(name);

  before(async () => {
    stack = await startPithosDevcloud("images", 12);
    ({ dir, cloud, pithos } = stack);
  });
  after(async () => {
    await stack.close();
  });

  test("1 GiB, half zero blocks: identical bytes back, ETag = local Merkle hash, re-upload sends no block, RSS < 200 MiB", async () => {
    const path = join(dir, "disk-1g.img");
    await makeDisk(path, 256);
    const args = [`${cloud.url}/object-store/v1`, DEMO_USER_UUID, DEMO_TOKEN, "images", "disk.img", path];
    const first = await runChild(args);
    const local = await hashFile(path, { blockSize: BS, findHoles: false });
    assert.equal(first.bytes, 256 * BS + 12_345);
    assert.equal(first.blocksTotal, 257);
    assert.equal(first.hash, merkleHash(local.hashes), "the holes path hashes like a full read");
    assert.equal(first.etag, first.hash);
    // 128 random blocks, one all-zero block, the tail.
    assert.equal(first.blocksSent, 130);
    assert.ok(first.maxRssBytes < 200 * MiB, `uploader peak RSS ${first.maxRssBytes / MiB} MiB`);

    const res = await pithos.getObject("images", "disk.img");
    const remote = createHash("sha256");
    for await (const chunk of res.body) remote.update(chunk as Buffer);
    assert.equal(remote.digest("hex"), await sha256File(path));
    assert.equal((await pithos.headObject("images", "disk.img")).hash, first.hash);

    const blocksBefore = await counter("pithos.blocksReceived");
    const second = await runChild([...args.slice(0, 4), "disk-again.img", path]);
    assert.equal(second.blocksSent, 0);
    assert.equal(second.hash, first.hash);
    assert.equal(await counter("pithos.blocksReceived"), blocksBefore, "no block was POSTed");
    assert.ok(second.maxRssBytes < 200 * MiB, `uploader peak RSS ${second.maxRssBytes / MiB} MiB`);
  });

  test("with 20% of Pithos requests failing (503), a 256 MiB upload completes and reads back identical", async () => {
    const path = join(dir, "disk-256m.img");
    await makeDisk(path, 64);
    const blocks = (cloud.modules.get("object-store") as ObjectStoreModule).store.blocks;
    const zeroStored = blocks.has(emptyBlockHash());
    cloud.injection.set({ "object-store": { errorRate: 0.2 } });
    const injectedBefore = await counter("injected.object-store");
    let result: UploadFileResult;
    try {
      result = await pithos.uploadFile("images", "flaky.img", path, { concurrency: 4 });
    } finally {
      cloud.injection.set({});
    }
    assert.ok((await counter("injected.object-store")) > injectedBefore, "faults were injected");
    const res = await pithos.getObject("images", "flaky.img");
    const remote = createHash("sha256");
    for await (const chunk of res.body) remote.update(chunk as Buffer);
    assert.equal(remote.digest("hex"), await sha256File(path));
    const local = await hashFile(path, { blockSize: BS, findHoles: false });
    assert.equal(result.hash, merkleHash(local.hashes));
    // Every distinct block the store lacked was sent exactly once.
    const distinct = new Set(local.hashes).size;
    assert.equal(
      result.blocksSent,
      distinct - (zeroStored ? 1 : 0),
      JSON.stringify({ result, counters: cloud.counters.snapshot() }),
    );
  });

  test("progress goes up in each phase and ends at the file size", async () => {
    const path = join(dir, "disk-progress.img");
    await makeDisk(path, 8);
    const seen: { done: number; total: number; phase: string }[] = [];
    await pithos.uploadFile("images", "progress.img", path, {
      onProgress: (done, total, phase) => seen.push({ done, total, phase }),
    });
    const size = 8 * BS + 12_345;
    for (const phase of ["hash", "upload"]) {
      const dones = seen.filter((s) => s.phase === phase).map((s) => s.done);
      assert.ok(dones.length > 1, phase);
      assert.deepEqual(
        dones,
        [...dones].sort((a, b) => a - b),
        phase,
      );
      assert.equal(dones.at(-1), size, phase);
    }
    assert.ok(seen.every((s) => s.total === size));
    assert.equal(seen.at(-1)?.phase, "upload");
  });

  test("aborting rejects at once with the signal's reason and leaves no object", async () => {
    const path = join(dir, "disk-abort.img");
    await makeDisk(path, 32);
    cloud.injection.set({ "object-store": { latencyMs: 50 } });
    const controller = new AbortController();
    const started = Date.now();
    try {
      await assert.rejects(
        pithos.uploadFile("images", "aborted.img", path, {
          signal: controller.signal,
          onProgress: (_d, _t, phase) => {
            if (phase === "upload") controller.abort(new Error("user canceled"));
          },
        }),
        /user canceled/,
      );
    } finally {
      cloud.injection.set({});
    }
    assert.ok(Date.now() - started < 10_000);
    await assert.rejects(
      pithos.headObject("images", "aborted.img"),
      (e: unknown) => e instanceof SynnefoError && e.status === 404,
    );
  });

  test("a file that changes during the upload is refused (fileChanged)", async () => {
    const path = join(dir, "disk-change.img");
    await makeDisk(path, 8);
    let changed = false;
    await assert.rejects(
      pithos.uploadFile("images", "changed.img", path, {
        onProgress: (_d, _t, phase) => {
          if (phase !== "upload" || changed) return;
          changed = true;
          // Rewrite block 0 between hashing and sending.
          const fd = openSync(path, "r+");
          writeSync(fd, Buffer.from("changed"), 0, 7, 0);
          closeSync(fd);
        },
      }),
      (e: unknown) => e instanceof SynnefoError && (e.code === "fileChanged" || e.code === "hashMismatch"),
    );
  });
});

/**
 * Runs `fn` with a client of a stand-in Pithos that answers every request with `answer`, and a
 * one-block file to upload.
 */
async function withStandIn(
  answer: (req: IncomingMessage, res: ServerResponse) => void,
  fn: (client: PithosClient, path: string) => Promise<void>,
): Promise<void> {
  const server = createServer((req, res) => {
    req.resume();
    answer(req, res);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const dir = await mkdtemp(join(tmpdir(), "icaas-stand-in-"));
  try {
    const path = join(dir, "f.img");
    await makeDisk(path, 1);
    const { port } = server.address() as AddressInfo;
    await fn(new PithosClient({ storageUrl: `http://127.0.0.1:${port}/v1`, account: "a", token: "t" }), path);
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test("an ETag that differs from the local Merkle hash is a hashMismatch error", async () => {
  // A stand-in Pithos that stores nothing and answers the final PUT with a wrong ETag.
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === "HEAD" && req.url?.endsWith("/c")) {
      res.writeHead(204, { "x-container-block-size": "4194304", "x-container-block-hash": "sha256" });
    } else if (req.method === "PUT") {
      res.writeHead(201, { etag: "0".repeat(64), "x-object-version": "1" });
    } else {
      res.writeHead(200, { "x-object-hash": "0".repeat(64), "content-length": 0 });
    }
  };
  await withStandIn(answer, (client, path) =>
    assert.rejects(
      client.uploadFile("c", "o", path),
      (e: unknown) => e instanceof SynnefoError && e.code === "hashMismatch",
    ),
  );
});

test("a container block size too large to allocate is refused as unsupportedBlockHash", async () => {
  // A stand-in Pithos whose container claims 1 TiB blocks: the client must not try to allocate them.
  const answer = (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(204, { "x-container-block-size": String(2 ** 40), "x-container-block-hash": "sha256" });
  };
  await withStandIn(answer, (client, path) =>
    assert.rejects(
      client.uploadFile("c", "o", path),
      (e: unknown) =>
        e instanceof SynnefoError && e.code === "unsupportedBlockHash" && /block size/.test(e.message),
    ),
  );
});
