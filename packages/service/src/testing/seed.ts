/** @module testing/seed — many realistic builds written straight into the database (benchmarks, load tests). */
import { randomBytes } from "node:crypto";
import { LOG_TAIL_LINES, STEP_NAMES } from "@icaas/contract";
import { SEAL } from "../context.ts";
import type { SecretBox } from "../crypto.ts";
import type { NewBuild } from "../db/schema.ts";
import type { Store } from "../db/store.ts";

export interface SeedOptions {
  /** Builds per user, by user uuid. */
  users: Record<string, number>;
  /** The token stored (sealed) for each build. */
  token: string;
  box: SecretBox;
  now?: number;
}

/** What a build looks like at the end of its life: steps, progress, error or image id, a log tail. */
function row(userUuid: string, n: number, token: string, box: SecretBox, now: number): NewBuild {
  const kind = n % 10;
  const status = kind < 6 ? "COMPLETED" : kind < 8 ? "ERROR" : kind < 9 ? "CANCELED" : "CREATING";
  const total = 2_000_000_000 + n;
  const doneSteps =
    status === "COMPLETED" ? STEP_NAMES.length : status === "ERROR" ? 2 : status === "CANCELED" ? 5 : 4;
  const t = (s: number) => new Date(now - 3_600_000 + s * 1000).toISOString();
  const steps = STEP_NAMES.map((name, i) => ({
    name,
    state:
      i < doneSteps
        ? "done"
        : i === doneSteps && status === "ERROR"
          ? "failed"
          : i === doneSteps && status === "CREATING"
            ? "running"
            : "pending",
    bytes_done: i < doneSteps ? 1_073_741_824 : 0,
    bytes_total: 1_073_741_824,
    started: i <= doneSteps ? t(i * 30) : null,
    finished: i < doneSteps ? t(i * 30 + 29) : null,
  }));
  const name = `image ${userUuid.slice(0, 4)} ${n}`;
  const slug = name.replace(/\s+/g, "-");
  return {
    user_uuid: userUuid,
    name,
    src: `https://downloads.example.org/images/${slug}.qcow2`,
    description: n % 3 === 0 ? "A benchmark image" : "",
    public: n % 4 === 0 ? 1 : 0,
    status,
    status_details: JSON.stringify({
      details:
        status === "COMPLETED"
          ? "agent: image creation finished"
          : status === "ERROR"
            ? "Downloading image file..."
            : "Uploading image...",
      "agent-progress": { current: status === "COMPLETED" ? total : Math.floor(total / 3), total },
    }),
    progress: status === "COMPLETED" ? 100 : 33,
    steps: JSON.stringify(steps),
    error:
      status === "ERROR"
        ? JSON.stringify({
            code: "download_not_found",
            message: "The source answered 404 Not Found",
            step: "download",
            hint: "Check the URL",
          })
        : null,
    image_id:
      status === "COMPLETED"
        ? `${randomBytes(4).toString("hex")}-0000-4000-8000-${String(n).padStart(12, "0")}`
        : null,
    image_location: status === "COMPLETED" ? `pithos://${userUuid}/images/${slug}.diskdump` : null,
    log_tail: JSON.stringify(
      Array.from(
        { length: LOG_TAIL_LINES },
        (_, i) => `${t(i)} INFO step ${STEP_NAMES[i % STEP_NAMES.length]}: line ${i} of the agent's log`,
      ),
    ),
    image: JSON.stringify({ container: "images", object: `${slug}.diskdump` }),
    log: JSON.stringify({ container: "icaas", object: `${slug}.log` }),
    created_at: now - 3_600_000 + n,
    updated_at: now - 60_000 + n,
    finished_at: status === "CREATING" ? null : now - 60_000 + n,
    user_token_sealed: box.encrypt(token, SEAL.userToken),
    nonce_sealed: box.encrypt(randomBytes(32).toString("base64url"), SEAL.nonce),
    nonce_hash: randomBytes(32).toString("hex"),
    nonce_used: 1,
    vm_state: "gone",
  };
}

/**
 * Inserts the builds in batches inside transactions (seconds for tens of thousands), interleaving
 * users so each one's builds are spread over the table as in real use.
 *
 * @example
 * await seedBuilds(store, { users: { [uuid]: 1000, other: 9000 }, token, box });
 */
export async function seedBuilds(store: Store, options: SeedOptions): Promise<number> {
  const now = options.now ?? Date.now();
  const queue = Object.entries(options.users).map(([uuid, count]) => ({ uuid, left: count, n: 0 }));
  const rows: NewBuild[] = [];
  while (queue.some((q) => q.left > 0)) {
    for (const q of queue) {
      if (q.left === 0) continue;
      rows.push(row(q.uuid, q.n++, options.token, options.box, now));
      q.left--;
    }
  }
  const db = store.builds.db;
  for (let i = 0; i < rows.length; i += 500) {
    const batch = rows.slice(i, i + 500);
    await db.transaction().execute(async (trx) => {
      // 20 rows (about 600 parameters) per statement stays under SQLite's bound-parameter limit.
      for (let j = 0; j < batch.length; j += 20)
        await trx
          .insertInto("builds")
          .values(batch.slice(j, j + 20))
          .execute();
    });
  }
  return rows.length;
}
