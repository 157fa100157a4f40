/** Bindings only the test runner sets (see vitest.config.ts). */
declare namespace Cloudflare {
  interface Env {
    DATABASE_URL: string;
    NEON_WS_PROXY: string;
    NEON_DIRECT_WS_PROXY: string;
    JWT_SECRET: string;
    ENCRYPTION_KEYS: string;
    ENCRYPTION_KEY_ID: string;
    METRICS_TOKEN: string;
    TEST_OUTAGE_CONTROL_URL: string;
    TEST_UNCUT_WS_PROXY: string;
    TEST_OUTSIDE_URL: string;
    TEST_OTHER_ORIGIN_URL: string;
    TEST_BACKUP_DATABASE_URL: string;
    TEST_INCREMENTAL_DATABASE_URL: string;
    TEST_CHECKSUM_DATABASE_URL: string;
    TEST_SCHEDULE_DATABASE_URL: string;
    TEST_PARTITIONS_DATABASE_URL: string;
  }
}
