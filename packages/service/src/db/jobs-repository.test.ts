/** @module db/jobs-repository.test — claims with leases on SQLite and PostgreSQL: no job runs twice at once. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startPostgres, type TestPostgres } from "../testing/postgres.ts";
import { parseDatabaseUrl } from "./dialect.ts";
import { openStore, type Store } from "./store.ts";

let pg: TestPostgres | undefined;
const dirs: string[] = [];

async function seed(store: Store, count: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const result = await store.builds.create({
      build: {
        user_uuid: "u",
        name: `b${i}`,
        src: "http://x",
        description: "",
        public: 0,
        user_token_sealed: "t",
        nonce_sealed: "n",
        nonce_hash: randomBytes(16).toString("hex"),
      },
      locations: () => ({ image: "{}", log: "{}" }),
      userTokenSealed: "t",
      maxActive: 0,
    });
    assert.equal(result.kind, "created");
    if (result.kind === "created") ids.push(result.build.id);
  }
  return ids;
}

for (const dialect of ["sqlite", "postgres"] as const) {
  describe(`job table on ${dialect}`, () => {
    let url: string | undefined;
    let dataDir: string;
    const open = () => openStore(parseDatabaseUrl(url, dataDir), "key-1");

    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), "icaas-jobs-"));
      dirs.push(dataDir);
      if (dialect === "postgres") {
        pg ??= await startPostgres();
        url = await pg.createDatabase();
      }
    });

    it("hands a due job to one runner; a dead runner's job returns when its lease expires", async () => {
      const store = await open();
      try {
        const [id] = await seed(store, 1);
        const now = Date.now();
        const first = await store.jobs.claim("dead", 5, 1000, now);
        assert.deepEqual(
          first.map((j) => [j.build_id, j.kind, j.state]),
          [[id, "create_agent", "running"]],
        );
        assert.deepEqual(await store.jobs.claim("alive", 5, 1000, now + 500), [], "leased");
        const taken = await store.jobs.claim("alive", 5, 1000, now + 1500);
        assert.equal(taken.length, 1);
        assert.equal(taken[0]!.lease_owner, "alive");
        // The dead runner's late answer changes nothing.
        await store.jobs.complete(taken[0]!.id, "dead");
        assert.equal((await store.jobs.get(id!, "create_agent"))?.state, "running");
        await store.jobs.retry(taken[0]!, "alive", now + 10_000, "503", true, now + 1600);
        const retried = await store.jobs.get(id!, "create_agent");
        assert.equal(retried?.state, "pending");
        assert.equal(retried?.attempts, 1);
        assert.equal(retried?.last_error, "503");
        assert.deepEqual(await store.jobs.claim("alive", 5, 1000, now + 5000), [], "not due yet");
        assert.equal((await store.jobs.claim("alive", 5, 1000, now + 10_000)).length, 1);
      } finally {
        await store.close();
      }
    });

    it("never gives one job to two concurrent claimers", async () => {
      const a = await open();
      const b = await open();
      try {
        await seed(a, 60);
        const seen: number[] = [];
        const claimer = async (store: Store, owner: string) => {
          for (let i = 0; i < 20; i++)
            seen.push(...(await store.jobs.claim(owner, 4, 60_000)).map((j) => j.id));
        };
        await Promise.all([claimer(a, "a"), claimer(b, "b"), claimer(a, "a2"), claimer(b, "b2")]);
        assert.equal(new Set(seen).size, seen.length, "no duplicates");
        assert.ok(seen.length >= 60);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it("re-arms a finished destroy job but leaves a running one alone", async () => {
      const store = await open();
      try {
        const [id] = await seed(store, 1);
        await store.jobs.enqueue(id!, "destroy_agent");
        const [job] = (await store.jobs.claim("r", 10, 60_000)).filter((j) => j.kind === "destroy_agent");
        await store.jobs.enqueue(id!, "destroy_agent");
        assert.equal((await store.jobs.get(id!, "destroy_agent"))?.state, "running");
        await store.jobs.complete(job!.id, "r");
        await store.jobs.enqueue(id!, "destroy_agent");
        assert.equal((await store.jobs.get(id!, "destroy_agent"))?.state, "pending");
      } finally {
        await store.close();
      }
    });

    it("refuses to open a database sealed with another key", async () => {
      const store = await open();
      await store.close();
      await assert.rejects(openStore(parseDatabaseUrl(url, dataDir), "key-2"), /encryption key differs/);
    });
  });
}

after(async () => {
  await pg?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
