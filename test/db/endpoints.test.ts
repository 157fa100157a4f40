/** The connection budget's endpoints (src/db/endpoints.ts): pooled for the platform, direct for backups. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { settings } from "../../src/config";
import { openDirectDatabase } from "../../src/db/client";
import { directConnectionString, pooledConnectionString } from "../../src/db/endpoints";

const direct = "postgres://app:secret@ep-cool-darkness-123456.us-east-2.aws.neon.tech/ipa?sslmode=require";
const pooled = "postgres://app:secret@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/ipa?sslmode=require";

describe("database endpoints", () => {
  it("derives Neon's pooled endpoint for the platform and the direct one for backups, from either", () => {
    expect(pooledConnectionString(direct)).toBe(pooled);
    expect(pooledConnectionString(pooled)).toBe(pooled);
    expect(directConnectionString(pooled)).toBe(direct);
    expect(directConnectionString(direct)).toBe(direct);
  });

  it("leaves hosts that are not Neon's as they are", () => {
    for (const url of ["postgres://u:p@localhost:5432/ipa", "postgres://u:p@db.example.com/ipa", "not a url"]) {
      expect(pooledConnectionString(url)).toBe(url);
      expect(directConnectionString(url)).toBe(url);
    }
  });
});

describe("the direct endpoint behind a local relay", () => {
  it("is required: a backup never falls back to the pooled path (its session lock would leak)", () => {
    const config = { ...settings(env), NEON_DIRECT_WS_PROXY: undefined };
    expect(() => openDirectDatabase(config)).toThrow(/NEON_DIRECT_WS_PROXY: must be set with NEON_WS_PROXY/);
  });
});
