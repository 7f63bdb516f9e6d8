/** @module db/dialect — which database a URL names, and opening a Kysely instance on it. */
import { mkdirSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import type { Database } from "./schema.ts";

export type Dialect = "sqlite" | "postgres";

export interface DatabaseTarget {
  dialect: Dialect;
  /** The file for SQLite, the connection string for PostgreSQL. */
  location: string;
}

/**
 * Reads a database URL: `postgres://` / `postgresql://` → PostgreSQL; `sqlite:<path>`, `file:<path>`
 * or a plain path → SQLite; nothing → `<dataDir>/icaas.sqlite`.
 */
export function parseDatabaseUrl(url: string | undefined, dataDir: string): DatabaseTarget {
  if (!url) return { dialect: "sqlite", location: resolve(join(dataDir, "icaas.sqlite")) };
  if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: "postgres", location: url };
  const path = url.replace(/^(sqlite|file):(\/\/)?/i, "");
  return { dialect: "sqlite", location: isAbsolute(path) ? path : resolve(dataDir, path) };
}

export interface OpenDatabase {
  db: Kysely<Database>;
  dialect: Dialect;
  close(): Promise<void>;
}

/** Opens the database: SQLite in WAL mode with a busy timeout, or a PostgreSQL pool. */
export function openDatabase(target: DatabaseTarget, options: { poolSize?: number } = {}): OpenDatabase {
  if (target.dialect === "postgres") {
    const pool = new pg.Pool({
      connectionString: target.location,
      max: options.poolSize ?? 10,
      // bigint columns hold epoch milliseconds, well inside Number's exact range.
      types: {
        getTypeParser: ((oid: number, format?: string) =>
          oid === 20
            ? (value: string) => Number(value)
            : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client losing its server must not crash the process; the next query reports it.
    pool.on("error", () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: "postgres", close: () => db.destroy() };
  }
  mkdirSync(dirname(target.location), { recursive: true });
  const sqlite = new SqliteDatabase(target.location);
  // Set before the first table exists (ignored later): a build row with its steps stays on one page,
  // only the log tail (the last column) may spill to overflow pages.
  sqlite.pragma("page_size = 8192");
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(sqlite) }) });
  return { db, dialect: "sqlite", close: () => db.destroy() };
}

/**
 * Kysely prepares every query anew; better-sqlite3 statements can be reused, and the service runs a
 * small set of query shapes, so keep them. The cache is bounded for shapes with variable `IN` lists.
 */
function cachingStatements(sqlite: SqliteDatabase.Database) {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (!statement) {
        statement = sqlite.prepare(sql);
        if (cache.size >= 256) cache.clear();
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}
