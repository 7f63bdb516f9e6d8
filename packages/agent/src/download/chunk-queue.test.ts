import assert from "node:assert/strict";
import { it } from "node:test";
import { ChunkQueue } from "./chunk-queue.ts";

it("is behind while half its high water waits for the consumer, and not once it is read", async () => {
  const queue = new ChunkQueue(1000);
  await queue.push(Buffer.alloc(400));
  assert.equal(queue.behind, false);
  await queue.push(Buffer.alloc(100));
  assert.equal(queue.behind, true);
  const reader = queue[Symbol.asyncIterator]();
  await reader.next();
  assert.equal(queue.behind, false, "100 bytes left");
  await reader.return(undefined);
});
