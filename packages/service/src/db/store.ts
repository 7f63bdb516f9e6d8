/** @module db/store — opens the database, migrates it, checks the encryption key, hands out repositories. */
import { BuildRepository } from "./builds-repository.ts";
import { type DatabaseTarget, type Dialect, openDatabase } from "./dialect.ts";
import { JobRepository } from "./jobs-repository.ts";
import { migrateToLatest } from "./migrate.ts";

export interface Store {
  dialect: Dialect;
  builds: BuildRepository;
  jobs: JobRepository;
  /** Cheap round trip for the readiness check. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens and migrates the database. `keyId` is the fingerprint of the token encryption key: the first
 * start records it, later starts refuse a different key (tokens sealed with the old one could not
 * be read, and VMs could not be destroyed).
 */
export async function openStore(
  target: DatabaseTarget,
  keyId: string,
  options: { poolSize?: number } = {},
): Promise<Store> {
  const { db, dialect, close } = openDatabase(target, options);
  try {
    await migrateToLatest(db as never, dialect);
    await db
      .insertInto("icaas_meta")
      .values({ key: "encryption_key_id", value: keyId })
      .onConflict((oc) => oc.column("key").doNothing())
      .execute();
    const stored = await db
      .selectFrom("icaas_meta")
      .select("value")
      .where("key", "=", "encryption_key_id")
      .executeTakeFirstOrThrow();
    if (stored.value !== keyId) {
      throw new Error(
        "the encryption key differs from the one this database was written with (set encryptionKey / ICAAS_ENCRYPTION_KEY to the original key; every instance needs the same one)",
      );
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    dialect,
    builds: new BuildRepository(db),
    jobs: new JobRepository(db, dialect),
    ping: async () => {
      await db.selectFrom("icaas_meta").select("key").limit(1).execute();
    },
    close,
  };
}
