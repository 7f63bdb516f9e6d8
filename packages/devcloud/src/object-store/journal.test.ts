import assert from "node:assert/strict";
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Journal } from "./journal.ts";
import { ObjectIndex, type ObjectRecord } from "./object-index.ts";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "icaas-journal-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("a journal that was never closed (a crash) replays its operations; a torn last line is ignored", async () => {
  const path = join(dir, "crash");
  const j = new Journal<{ n: number }>(path);
  await j.load();
  await j.open(() => ({ base: true }));
  await j.append({ n: 1 });
  await j.append({ n: 2 });
  await appendFile(j.files.log, '{"n": 3');
  const loaded = await new Journal<{ n: number }>(path).load();
  assert.deepEqual(loaded.snapshot, { base: true });
  assert.deepEqual(loaded.ops, [{ n: 1 }, { n: 2 }]);
});

test("a broken line that is not the last one is reported, not skipped", async () => {
  const path = join(dir, "corrupt");
  const j = new Journal<{ n: number }>(path);
  await j.load();
  await j.open(() => ({}));
  await writeFile(j.files.log, '{"n":1}\nnot json\n{"n":2}\n');
  await assert.rejects(new Journal(path).load(), /line 2 is not JSON/);
});

test("compaction writes the state as a snapshot and empties the log", async () => {
  const path = join(dir, "compact");
  const state = { count: 0 };
  const j = new Journal<{ n: number }>(path, { compactEvery: 3 });
  await j.load();
  await j.open(() => ({ ...state }));
  for (let n = 1; n <= 4; n++) {
    state.count = n;
    await j.append({ n });
  }
  assert.deepEqual(JSON.parse(await readFile(j.files.snapshot, "utf8")), { count: 3 });
  assert.equal(await readFile(j.files.log, "utf8"), '{"n":4}\n');
  await j.close();
  const loaded = await new Journal(path).load();
  assert.deepEqual(loaded, { snapshot: { count: 4 }, ops: [] });
});

test("the object index comes back after a crash with containers, objects, uuids and public tokens", async () => {
  const path = join(dir, "index");
  const index = new ObjectIndex(path, 4);
  await index.start();
  await index.setContainer("acct", "c", {
    created: 1,
    modified: 1,
    policy: { quota: 0, versioning: "auto", project: "acct" },
    meta: {},
  });
  const record: ObjectRecord = {
    uuid: "u-1",
    bytes: 10,
    hash: "abc",
    contentType: "text/plain",
    version: index.nextSerial(),
    modified: 1000,
    modifiedBy: "acct",
    meta: { "X-Object-Meta-A": "1" },
    public: "TOKEN",
    domains: { plankton: { name: "img" } },
  };
  await index.saveHashmap("abc", ["h1", "h2", "h3"]);
  await index.setObject("acct", "c", "o", record);
  await index.setObject("acct", "c", "gone", {
    ...record,
    uuid: "u-2",
    public: undefined,
    version: index.nextSerial(),
  });
  await index.setObject("acct", "c", "gone", null);
  // No close(): the journal alone must carry the state.
  const again = new ObjectIndex(path, 4);
  await again.start();
  assert.deepEqual(again.object("acct", "c", "o"), record);
  assert.equal(again.object("acct", "c", "gone"), undefined);
  assert.deepEqual(again.locate("u-1"), { account: "acct", container: "c", name: "o" });
  assert.equal(again.locate("u-2"), undefined);
  assert.deepEqual(again.locatePublic("TOKEN"), { account: "acct", container: "c", name: "o" });
  assert.deepEqual(await again.hashmap(record), ["h1", "h2", "h3"]);
  assert.equal(again.accountBytes("acct"), 10);
  assert.ok(again.nextSerial() > record.version + 1);
  await again.close();
});
