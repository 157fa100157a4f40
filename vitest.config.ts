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
  LOGIN_MAX_FAILURES: "5",
  LOGIN_LOCK_SECONDS: "900",
  METRICS_TOKEN: "test-metrics-token",
};

export default defineConfig({
  test: {
    // Request logs are noise unless a test fails.
    silent: "passed-only",
    projects: [
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                ...TEST_SETTINGS,
                DATABASE_URL: inject("databaseUrl"),
                NEON_WS_PROXY: inject("wsProxy"),
                TEST_OUTAGE_WS_PROXY: inject("outageWsProxy"),
                TEST_OUTAGE_CONTROL_URL: inject("outageControlUrl"),
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/**/*.test.ts"],
          exclude: ["test/node/**"],
          globalSetup: ["./test/global-setup.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
