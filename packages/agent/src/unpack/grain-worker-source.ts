/**
 * @module unpack/grain-worker-source — the code of a grain worker thread, as text: it runs with
 * `new Worker(source, { eval: true })`, so it travels inside the agent's single-file bundle and uses
 * node's built-in modules only (plain JavaScript: nothing here is compiled).
 *
 * A worker takes batches of deflated grains, inflates each (`inflateSync`: this thread's own CPU,
 * not the main thread's), and writes the non-zero ones with `pwrite` on the output's descriptor
 * (shared with the main thread, which opened it). It answers each batch with the offsets it wrote,
 * the bytes decoded, and the first damage it met (then it stops that batch); the batch's buffer goes
 * back to the main thread for reuse.
 */
export const GRAIN_WORKER_SOURCE = `
"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const { inflateSync } = require("node:zlib");
const { writeSync } = require("node:fs");
const { fd, grainBytes, capacity, sliceBytes } = workerData;
const zero = Buffer.alloc(grainBytes);
// Each inflated grain is a new buffer outside the heap; V8 collects them only after tens of MiB, and
// that garbage would be the agent's largest memory. A young-generation collection every 128 grains
// (8 MiB) frees them early. (The flag only exposes gc() to contexts made from now on.)
require("node:v8").setFlagsFromString("--expose-gc");
const collect = require("node:vm").runInNewContext("typeof gc === 'function' ? gc : () => {}");
let sinceCollect = 0;
parentPort.on("message", (batch) => {
  const data = Buffer.from(batch.buffer);
  const written = [];
  let decoded = 0;
  let damage;
  for (let i = 0; i < batch.offsets.length; i++) {
    const offset = batch.offsets[i];
    const start = batch.starts[i];
    const expected = Math.min(grainBytes, capacity - offset);
    let grain;
    try {
      grain = inflateSync(data.subarray(start, start + batch.lengths[i]), {
        maxOutputLength: grainBytes,
        chunkSize: sliceBytes,
      });
    } catch (error) {
      damage = { offset, kind: error.code === "ERR_BUFFER_TOO_LARGE" ? "past" : "inflate", message: error.message };
      break;
    }
    if (grain.length < expected) {
      damage = { offset, kind: "short", length: grain.length, expected };
      break;
    }
    decoded += expected;
    if (++sinceCollect >= 128) {
      sinceCollect = 0;
      collect({ type: "minor" });
    }
    if (grain.subarray(0, expected).equals(zero.subarray(0, expected))) continue;
    let done = 0;
    while (done < expected) done += writeSync(fd, grain, done, expected - done, offset + done);
    written.push(offset);
  }
  parentPort.postMessage({ id: batch.id, written, decoded, damage, buffer: batch.buffer }, [batch.buffer]);
});
`;
