/**
 * The Worker's environment in one place: bindings and vars from `wrangler types`
 * (worker-configuration.d.ts) plus the secrets, which live outside wrangler.toml.
 */

/**
 * The optional settings of docs/operations.md (vars or secrets, set in wrangler.toml, with `wrangler secret
 * put` or in `.dev.vars`). The required secrets (DATABASE_URL, JWT_SECRET, ENCRYPTION_KEYS) are in
 * `Env`, generated from wrangler.toml's `secrets.required`.
 */
export interface Secrets {
  ENCRYPTION_KEY_ID?: string;
  VERIFY_DATABASE_URL?: string;
  METRICS_TOKEN?: string;
  CORS_ORIGINS?: string;
  HTTP_STEP_ALLOWLIST?: string;
  LOGIN_MAX_FAILURES?: string;
  LOGIN_LOCK_SECONDS?: string;
  ALLOW_BUILTIN_PROVIDER?: string;
  BACKUP_ENCRYPTION_KEY_ID?: string;
  BACKUP_ENCRYPTION?: string;
  BACKUP_INCREMENTAL_MINUTES?: string;
  RATE_LIMIT_USER_PER_MINUTE?: string;
  RATE_LIMIT_IP_PER_MINUTE?: string;
  QUOTA_WORKFLOWS_PER_USER?: string;
  QUOTA_ACTIVE_EXECUTIONS_PER_USER?: string;
  QUOTA_SCHEDULES_PER_USER?: string;
  QUOTA_API_TOKENS_PER_USER?: string;
  QUOTA_VERSIONS_PER_WORKFLOW?: string;
  QUOTA_SECRETS_PER_WORKFLOW?: string;
  MODEL_PRICES?: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_HEADERS?: string;
  RETENTION_INCREMENTAL_DAYS?: string;
  RETENTION_DAILY_DAYS?: string;
  RETENTION_MONTHLY_DAYS?: string;
  LOG_ARCHIVE_AFTER_DAYS?: string;
  /** Local only: `host:port/path` of the relay's pooled endpoint in front of a plain PostgreSQL. */
  NEON_WS_PROXY?: string;
  /** Local only: the relay's direct endpoint (one Postgres connection per client), for backups. */
  NEON_DIRECT_WS_PROXY?: string;
}

/** STORAGE_REPLICA is optional (docs/operations.md): wrangler.toml binds one, a deployment may not. */
export type Bindings = Omit<Env, "STORAGE_REPLICA"> & { STORAGE_REPLICA?: R2Bucket } & Secrets;
