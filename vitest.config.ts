import { availableParallelism } from "node:os";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** Fixed test keys: a 32-byte JWT secret and two encryption keys (rotation is tested). */
const TEST_SETTINGS = {
  JWT_SECRET: "test-jwt-secret-that-is-at-least-32-bytes-long",
  ENCRYPTION_KEYS: JSON.stringify({
    k1: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    k2: "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
  }),
  ENCRYPTION_KEY_ID: "k2",
  ALLOW_BUILTIN_PROVIDER: "true",
  // The scripted outside world listens on loopback; allow exactly that host.
  HTTP_STEP_ALLOWLIST: "127.0.0.1",
  LOGIN_MAX_FAILURES: "5",
  LOGIN_LOCK_SECONDS: "900",
  METRICS_TOKEN: "test-metrics-token",
  // Prices for the fake models: gpt-test as a real model might cost, the built-in one dear enough for budgets to bite.
  MODEL_PRICES: JSON.stringify({
    "gpt-test": { inputPerMTok: 2.5, outputPerMTok: 10 },
    "builtin-echo": { inputPerMTok: 1000, outputPerMTok: 2000 },
  }),
  // Low enough for test/routes/quotas.test.ts to reach; no other test gives one user more.
  QUOTA_SCHEDULES_PER_USER: "3",
};

/**
 * Files that take a whole stack or wait out real time: `npm run test:e2e` runs them (CI runs it
 * after `npm test`), so `npm test` stays a loop a contributor runs often.
 */
const E2E_WORKERS = ["test/engine-runs/steps-in-object.test.ts", "test/live/stream-revocation.test.ts"];
const E2E_NODE = [
  "test/node/dev-launcher.test.ts",
  "test/node/cli.test.ts",
  "test/node/restore.test.ts",
  "test/node/deploy.test.ts",
];

/** A project whose files run one at a time (they share a fault they inject). */
function sequentialProject<T extends { test: Record<string, unknown> }>(project: T): T {
  return { ...project, test: { ...project.test, fileParallelism: false } };
}

/**
 * A workerd project against the test database through the relay named by `relay`. With
 * `sharedRuntime`, a worker's files run one after another in the same workerd (`isolate: false`):
 * starting a runtime per file cost more CPU than most files' tests; the files share no state
 * but the database, where each creates its own users and workflows.
 */
function workersProject(
  name: string,
  include: string[],
  exclude: string[],
  relay: "wsProxy" | "outageWsProxy",
  extra: Record<string, string> = {},
  traced = false,
  sharedRuntime = false,
) {
  return {
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            ...TEST_SETTINGS,
            DATABASE_URL: inject("databaseUrl"),
            NEON_WS_PROXY: inject(relay),
            NEON_DIRECT_WS_PROXY: inject(relay === "wsProxy" ? "directWsProxy" : "outageDirectWsProxy"),
            TEST_OUTAGE_CONTROL_URL: inject("outageControlUrl"),
            // A path to the database that the outage tests never cut, to look at rows mid-outage.
            TEST_UNCUT_WS_PROXY: inject("wsProxy"),
            TEST_OUTSIDE_URL: inject("outsideUrl"),
            TEST_OTHER_ORIGIN_URL: inject("otherOriginUrl"),
            TEST_BACKUP_DATABASE_URL: inject("backupDatabaseUrl"),
            TEST_INCREMENTAL_DATABASE_URL: inject("incrementalDatabaseUrl"),
            TEST_CHECKSUM_DATABASE_URL: inject("checksumDatabaseUrl"),
            TEST_SCHEDULE_DATABASE_URL: inject("scheduleDatabaseUrl"),
            TEST_PARTITIONS_DATABASE_URL: inject("partitionsDatabaseUrl"),
            // The main project exports its traces to the outside world's OTLP receiver.
            ...(traced ? { OTEL_EXPORTER_OTLP_ENDPOINT: `${inject("outsideUrl")}/otlp` } : {}),
            ...extra,
          },
        },
      })),
    ],
    test: {
      name,
      include,
      exclude,
      testTimeout: 60_000,
      hookTimeout: 60_000,
      ...(sharedRuntime ? { isolate: false } : {}),
    },
  };
}

export default defineConfig({
  test: {
    globalSetup: ["./test/global-setup.ts"],
    // Test files mostly wait (on Postgres, timers, the outside world), not compute: more files at
    // once than cores keeps a 2-core machine busy. Projects that share an injected fault still run
    // their files one at a time (fileParallelism: false).
    maxWorkers: Math.max(4, availableParallelism()),
    // Request logs are noise unless a test fails.
    silent: "passed-only",
    projects: [
      workersProject(
        "workers",
        ["test/**/*.test.ts"],
        ["test/node/**", "test/outage/**", "test/faults/**", "test/browser/**", "test/backup/**", ...E2E_WORKERS],
        "wsProxy",
        {},
        true,
        true,
      ),
      // Backups take the test database's one backup lock: their files run one at a time.
      sequentialProject(workersProject("backups", ["test/backup/**/*.test.ts"], [], "wsProxy")),
      workersProject("e2e", E2E_WORKERS, [], "wsProxy", {}, true),
      // These tests cut their relay to simulate a database outage; only they use it, one file at a
      // time (a file restoring the relay must not end another's outage).
      sequentialProject(workersProject("outage", ["test/outage/**/*.test.ts"], [], "outageWsProxy")),
      // Consumers here cannot report a step's result on its first claim (see src/queues/faults.ts).
      workersProject("faults", ["test/faults/**/*.test.ts"], [], "wsProxy", {
        FAULT_INJECTION: JSON.stringify({ failReports: 7 }),
      }),
      // The delivery and fault tests again with every first attempt through the queue's consumer
      // (objects run none themselves), so that path stays covered as well as the object's.
      workersProject(
        "queue-path",
        ["test/engine-runs/delivery.test.ts", "test/engine-runs/retries.test.ts", "test/engine-faults/**/*.test.ts"],
        [],
        "wsProxy",
        { INLINE_STEP_ATTEMPTS: "0" },
      ),
      workersProject("faults-queue-path", ["test/faults/**/*.test.ts"], [], "wsProxy", {
        FAULT_INJECTION: JSON.stringify({ failReports: 7 }),
        INLINE_STEP_ATTEMPTS: "0",
      }),
      { test: { name: "node", include: ["test/node/**/*.test.ts"], exclude: E2E_NODE, environment: "node" } },
      {
        test: {
          name: "node-e2e",
          include: E2E_NODE,
          environment: "node",
          // Each file starts a whole dev stack; one at a time keeps their ports apart.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
