import { describe, expect, it } from "vitest";
import { FORWARDED_SETTINGS, formatDotenv, parseDotenv } from "../../scripts/lib/settings.ts";

describe("dev settings files", () => {
  it("round-trips values with spaces, quotes, JSON and empty strings", () => {
    const values = {
      ENCRYPTION_KEYS: JSON.stringify({ k1: "AAECAw==" }),
      CORS_ORIGINS: "http://a.test, http://b.test",
      EMPTY: "",
      PLAIN: "abc123",
    };
    expect(parseDotenv(formatDotenv(values))).toEqual(values);
  });

  it("reads comments, export prefixes and single quotes", () => {
    expect(parseDotenv("# c\nexport A=1\nB='two words'\n\nC=\"x\"")).toEqual({ A: "1", B: "two words", C: "x" });
  });

  it("forwards every setting of SPEC §7 that the Worker reads", () => {
    for (const name of [
      "DATABASE_URL",
      "JWT_SECRET",
      "ENCRYPTION_KEYS",
      "ENCRYPTION_KEY_ID",
      "VERIFY_DATABASE_URL",
      "CORS_ORIGINS",
      "HTTP_STEP_ALLOWLIST",
      "METRICS_TOKEN",
      "LOGIN_MAX_FAILURES",
      "LOGIN_LOCK_SECONDS",
      "ALLOW_BUILTIN_PROVIDER",
      "BACKUP_ENCRYPTION_KEY_ID",
      "RETENTION_INCREMENTAL_DAYS",
      "RETENTION_DAILY_DAYS",
      "RETENTION_MONTHLY_DAYS",
      "LOG_ARCHIVE_AFTER_DAYS",
      "JWT_ISSUER",
      "JWT_AUDIENCE",
    ]) {
      expect(FORWARDED_SETTINGS).toContain(name);
    }
  });
});
