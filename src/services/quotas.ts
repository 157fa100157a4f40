/**
 * Quotas (docs/operations.md, docs/security.md): workflows, active executions, schedules and API tokens a user may
 * have, versions and secrets a workflow may have, checked inside the transaction that would
 * exceed them, under a lock per subject so concurrent requests cannot overrun one. Admins are
 * exempt from the per-user ones but API tokens. Over a quota: 429 QUOTA_EXCEEDED.
 */
import { type SQL, sql } from "drizzle-orm";
import type { Settings } from "../config";
import type { Queryable } from "../db/client";
import { AppError } from "../errors";
import { pgError } from "../observability/pg-error";

export type Quota = "workflows" | "activeExecutions" | "schedules" | "apiTokens" | "versions" | "secrets";

export class QuotaExceededError extends AppError {
  constructor(what: string, limit: number) {
    super(429, "QUOTA_EXCEEDED", `The quota of ${limit} ${what} is reached`, { headers: { "Retry-After": "60" } });
  }
}

interface QuotaRule {
  setting: (config: Settings) => number;
  what: string;
  /** Admins are not counted (their workflows and runs are the platform's own). */
  exemptsAdmins: boolean;
  /** Counts what the subject (a user's or a workflow's id) has now. */
  count: (subjectId: string) => ReturnType<typeof sql>;
}

const QUOTAS: Record<Quota, QuotaRule> = {
  workflows: {
    setting: (config) => config.QUOTA_WORKFLOWS_PER_USER,
    what: "workflows",
    exemptsAdmins: true,
    count: (userId) =>
      sql`select count(*)::int as n from workflows where owner_id = ${userId} and status <> 'archived'`,
  },
  schedules: {
    setting: (config) => config.QUOTA_SCHEDULES_PER_USER,
    what: "scheduled workflows",
    exemptsAdmins: true,
    count: (userId) =>
      sql`select count(*)::int as n from workflows where owner_id = ${userId} and status <> 'archived' and schedule is not null`,
  },
  // Counted by Postgres, under its lock, in one statement (migrations/0030_active-executions-check.sql):
  // a start can check it inside its own single statement.
  activeExecutions: {
    setting: (config) => config.QUOTA_ACTIVE_EXECUTIONS_PER_USER,
    what: "active executions",
    exemptsAdmins: true,
    count: (userId) => sql`select ipa_check_active_executions(${userId}, null, null) as n`,
  },
  apiTokens: {
    setting: (config) => config.QUOTA_API_TOKENS_PER_USER,
    what: "live API tokens",
    exemptsAdmins: false,
    count: (userId) =>
      sql`select count(*)::int as n from api_tokens where user_id = ${userId} and revoked_at is null and expires_at > now()`,
  },
  versions: {
    setting: (config) => config.QUOTA_VERSIONS_PER_WORKFLOW,
    what: "versions of a workflow",
    exemptsAdmins: false,
    count: (workflowId) => sql`select count(*)::int as n from workflow_versions where workflow_id = ${workflowId}`,
  },
  secrets: {
    setting: (config) => config.QUOTA_SECRETS_PER_WORKFLOW,
    what: "secrets of a workflow",
    exemptsAdmins: false,
    count: (workflowId) => sql`select count(*)::int as n from secrets where workflow_id = ${workflowId}`,
  },
};

/**
 * Throws unless the subject (a user, or for per-workflow quotas a workflow's id) may add one more
 * of `quota`. Call inside the transaction that adds it.
 */
export async function assertQuota(
  tx: Queryable,
  config: Settings,
  quota: Quota,
  subject: { id: string; roles?: readonly string[] },
): Promise<void> {
  const { setting, what, count, exemptsAdmins } = QUOTAS[quota];
  if (exemptsAdmins && subject.roles?.includes("admin")) return;
  // The active executions' check takes its own lock (and raises past the limit); the others' here.
  if (quota === "activeExecutions") {
    await tx.execute(activeExecutionsCheck(config, subject, null) ?? sql`select 0`).catch(rethrowQuota(config));
    return;
  }
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`quota:${quota}:${subject.id}`}))`);
  const { rows } = await tx.execute<{ n: number }>(count(subject.id));
  if (Number(rows[0]?.n ?? 0) >= setting(config)) throw new QuotaExceededError(what, setting(config));
}

/** What Postgres's quota check raises past the limit (migrations/0030_active-executions-check.sql). */
const QUOTA_EXCEEDED_SQLSTATE = "IQ429";

/**
 * The active-executions quota as an expression for a statement that adds one (`except`: its id,
 * when the same statement inserts it): takes the user's lock, counts the others', raises past the
 * limit. Null for a subject it does not count (admins).
 */
export function activeExecutionsCheck(
  config: Settings,
  subject: { id: string; roles?: readonly string[] },
  except: string | null,
): SQL | null {
  if (QUOTAS.activeExecutions.exemptsAdmins && subject.roles?.includes("admin")) return null;
  return sql`select ipa_check_active_executions(${subject.id}, ${config.QUOTA_ACTIVE_EXECUTIONS_PER_USER}, ${except})`;
}

/** For a statement that ran `activeExecutionsCheck` and failed: past the limit, the 429; anything else, as it was. */
export function rethrowQuota(config: Settings) {
  return (error: unknown): never => {
    if (pgError(error)?.code === QUOTA_EXCEEDED_SQLSTATE)
      throw new QuotaExceededError(QUOTAS.activeExecutions.what, QUOTAS.activeExecutions.setting(config));
    throw error;
  };
}
