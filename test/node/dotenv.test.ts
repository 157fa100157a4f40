import { parseEnv } from "node:util";
import { describe, expect, it } from "vitest";
import { FORWARDED_SETTINGS, formatDotenv, forwardedFrom } from "../../scripts/lib/settings.ts";

describe("dev settings files", () => {
  it("round-trips values with spaces, quotes, JSON and empty strings", () => {
    const values = {
      ENCRYPTION_KEYS: JSON.stringify({ k1: "AAECAw==" }),
      CORS_ORIGINS: "http://a.test, http://b.test",
      EMPTY: "",
      PLAIN: "abc123",
    };
    expect(parseEnv(formatDotenv(values))).toEqual(values);
  });

  it("quotes what a dotenv reader would otherwise cut: comments, newlines, quotes", () => {
    const values = { HASH: "a#b", NEWLINE: "one\ntwo", QUOTE: "it's" };
    expect(parseEnv(formatDotenv(values))).toEqual(values);
  });

  it("forwards every setting of docs/operations.md that the Worker reads", () => {
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
      "BACKUP_ENCRYPTION",
      "BACKUP_INCREMENTAL_MINUTES",
      "RATE_LIMIT_USER_PER_MINUTE",
      "RATE_LIMIT_IP_PER_MINUTE",
      "QUOTA_WORKFLOWS_PER_USER",
      "QUOTA_ACTIVE_EXECUTIONS_PER_USER",
      "QUOTA_SCHEDULES_PER_USER",
      "MODEL_PRICES",
      "OTEL_EXPORTER_OTLP_ENDPOINT",
      "OTEL_EXPORTER_OTLP_HEADERS",
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

  it("forwards provider keys but nothing else of the environment", () => {
    expect(forwardedFrom({ OPENAI_API_KEY: "sk-1", HOME: "/root", METRICS_TOKEN: "m" })).toEqual({
      OPENAI_API_KEY: "sk-1",
      METRICS_TOKEN: "m",
    });
  });
});
