/** @module testing/postgres — a throwaway PostgreSQL server from Debian's package, for tests and benches. */
import { execFile, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/<database>` */
  url: string;
  port: number;
  /** Creates another empty database on the same server and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

/** The newest `/usr/lib/postgresql/<version>/bin`. */
export function findPostgresBin(): string {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error("PostgreSQL is not installed (apt-get install postgresql)");
  return join(base, versions[0]!, "bin");
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

let counter = 0;

/**
 * Starts a PostgreSQL server: `initdb` into a fresh temporary directory (as the `postgres` user when
 * running as root, which PostgreSQL requires), listening on a random loopback port with its socket in
 * that directory; creates the database `icaas`. `stop()` shuts it down and removes the directory.
 *
 * @example
 * const pg = await startPostgres();
 * // ICAAS_DATABASE_URL = pg.url
 * await pg.stop();
 */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = findPostgresBin();
  const dir = mkdtempSync(join(tmpdir(), "icaas-pg-"));
  const data = join(dir, "data");
  const asRoot = userInfo().uid === 0;
  const as = (command: string, args: string[]) =>
    asRoot ? { file: "runuser", args: ["-u", "postgres", "--", command, ...args] } : { file: command, args };
  if (asRoot) {
    const { uid, gid } = postgresIds();
    chownSync(dir, uid, gid);
  }
  const exec = async (command: string, args: string[]) => {
    const c = as(command, args);
    try {
      await run(c.file, c.args, { cwd: dir, env: { ...process.env, LC_ALL: "C" } });
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new Error(`${command} failed: ${e.stderr || e.message}`);
    }
  };
  await exec(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  let port = 0;
  let started = false;
  for (let attempt = 0; attempt < 5 && !started; attempt++) {
    port = await freePort();
    const options = [
      `-p ${port}`,
      "-c listen_addresses=127.0.0.1",
      `-k ${dir}`,
      "-c fsync=off",
      "-c synchronous_commit=off",
      "-c full_page_writes=off",
      "-c max_connections=200",
      "-c shared_buffers=32MB",
    ].join(" ");
    try {
      await exec(join(bin, "pg_ctl"), [
        "-D",
        data,
        "-l",
        join(dir, "log"),
        "-w",
        "-t",
        "30",
        "-o",
        options,
        "start",
      ]);
      started = true;
    } catch (error) {
      if (attempt === 4) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  const stopSync = () => {
    const c = as(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "stop"]);
    spawnSync(c.file, c.args, { stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  };
  // A test process that dies without calling stop() must not leave a server behind.
  process.once("exit", stopSync);
  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const createDatabase = async (name = `icaas_${process.pid}_${++counter}`) => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, "")}"`);
    } finally {
      await client.end();
    }
    return `postgres://postgres@127.0.0.1:${port}/${name}`;
  };
  const url = await createDatabase("icaas");
  return {
    url,
    port,
    createDatabase,
    async stop() {
      process.off("exit", stopSync);
      stopSync();
    },
  };
}

function postgresIds(): { uid: number; gid: number } {
  const out = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
  if (out.status !== 0) throw new Error("there is no 'postgres' user (install Debian's postgresql package)");
  return { uid: Number(out.stdout.trim()), gid: Number(gid.stdout.trim()) };
}
