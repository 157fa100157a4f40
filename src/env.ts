/**
 * The Worker's environment in one place: bindings and vars from `wrangler types`
 * (worker-configuration.d.ts) plus the secrets, which live outside wrangler.toml.
 */

import type { AuthenticatedUser } from "./auth/principal";
import type { DatabaseSession } from "./db/client";

/** Secrets and optional settings of SPEC §7 (set with `wrangler secret put` or `.dev.vars`). */
export interface Secrets {
  DATABASE_URL: string;
  JWT_SECRET: string;
  ENCRYPTION_KEYS?: string;
  ENCRYPTION_KEY_ID?: string;
  VERIFY_DATABASE_URL?: string;
  METRICS_TOKEN?: string;
  CORS_ORIGINS?: string;
  HTTP_STEP_ALLOWLIST?: string;
  LOGIN_MAX_FAILURES?: string;
  LOGIN_LOCK_SECONDS?: string;
  ALLOW_BUILTIN_PROVIDER?: string;
  BACKUP_ENCRYPTION_KEY_ID?: string;
  RETENTION_INCREMENTAL_DAYS?: string;
  RETENTION_DAILY_DAYS?: string;
  RETENTION_MONTHLY_DAYS?: string;
  LOG_ARCHIVE_AFTER_DAYS?: string;
  /** Local only: `host:port/path` of the WebSocket relay in front of a plain PostgreSQL. */
  NEON_WS_PROXY?: string;
}

export type Bindings = Env & Secrets;

/** Hono environment shared by every router and middleware. */
export interface AppEnv {
  Bindings: Bindings;
  Variables: {
    requestId: string;
    db: DatabaseSession;
    user: AuthenticatedUser;
  };
}
