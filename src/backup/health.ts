/**
 * Backup alerts (docs/backups.md RPO/RTO): a backup older than twice its interval, a failed verification,
 * or a replica bucket lagging behind shows in /metrics and in /health/ready's details.
 */
import { sql } from "drizzle-orm";
import type { Settings } from "../config";
import type { Queryable } from "../db/client";
import type { Exposition } from "../observability/prometheus";
import { FINISHED_STATUSES } from "./catalog";

type Kind = "full" | "incremental";

/** What backups are expected: incrementals every so many minutes, and whether a replica is bound. */
export interface BackupSchedule {
  incrementalMinutes: number;
  replica: boolean;
}

/** The schedule the platform runs with: its settings and bindings. */
export function backupSchedule(env: { STORAGE_REPLICA?: R2Bucket }, config: Settings): BackupSchedule {
  return { incrementalMinutes: config.BACKUP_INCREMENTAL_MINUTES, replica: Boolean(env.STORAGE_REPLICA) };
}

export const intervalSeconds = (kind: Kind, schedule: BackupSchedule) =>
  kind === "full" ? 24 * 3600 : schedule.incrementalMinutes * 60;

/** The replica may trail by this much (a few copy retries) before it is a problem. */
export const REPLICA_LAG_WARN_SECONDS = 600;

export interface BackupFreshness {
  kind: Kind;
  /** For incrementals, an empty interval counts: it found the newest backup still current. */
  lastSuccessAt: Date | null;
  ageSeconds: number | null;
  stale: boolean;
}

export interface ReplicaHealth {
  /** Finished backups not yet copied, and how long the oldest of them has waited. */
  waiting: number;
  lagSeconds: number;
  lagging: boolean;
  /** The newest copy failure among them, if any. */
  lastFailure: { backupId: string; reason: string | null } | null;
}

export interface BackupHealth {
  freshness: BackupFreshness[];
  /** The newest verification's verdict, if any backup was verified. */
  lastVerification: { backupId: string; ok: boolean; at: Date } | null;
  /** Null when no replica bucket is bound. */
  replica: ReplicaHealth | null;
}

const FINISHED = sql.raw(`(${FINISHED_STATUSES.map((status) => `'${status}'`).join(", ")})`);

export async function backupHealth(db: Queryable, schedule: BackupSchedule, now = new Date()): Promise<BackupHealth> {
  const rows = (
    await db.execute<{ kind: Kind; last: Date | null }>(sql`
      select k.kind, greatest(max(b.completed_at), case when k.kind = 'incremental' then
        (select max(unchanged_at) from backups where status in ${FINISHED}) end) as last
      from unnest(array['full', 'incremental']::backup_kind[]) as k(kind)
      left join backups b on b.kind = k.kind and b.status in ${FINISHED}
      group by k.kind order by k.kind`)
  ).rows;
  const freshness = rows.map(({ kind, last }) => {
    const lastSuccessAt = last ? new Date(last) : null;
    const ageSeconds = lastSuccessAt ? Math.round((now.getTime() - lastSuccessAt.getTime()) / 1000) : null;
    const stale = ageSeconds === null || ageSeconds > 2 * intervalSeconds(kind, schedule);
    return { kind, lastSuccessAt, ageSeconds, stale };
  });
  const [verification] = (
    await db.execute<{ id: string; status: string; verified_at: Date }>(sql`
      select id, status, verified_at from backups where verified_at is not null order by verified_at desc limit 1`)
  ).rows;
  return {
    freshness,
    lastVerification: verification
      ? { backupId: verification.id, ok: verification.status === "verified", at: new Date(verification.verified_at) }
      : null,
    replica: schedule.replica ? await replicaHealth(db, now) : null,
  };
}

async function replicaHealth(db: Queryable, now: Date): Promise<ReplicaHealth> {
  const [waiting] = (
    await db.execute<{ n: number; oldest: Date | null }>(sql`
      select count(*)::int as n, min(completed_at) as oldest from backups
      where status in ${FINISHED} and replica_status is distinct from 'copied'`)
  ).rows;
  const [failure] = (
    await db.execute<{ id: string; reason: string | null }>(sql`
      select id, replica_reason as reason from backups
      where status in ${FINISHED} and replica_status = 'failed' order by replica_at desc limit 1`)
  ).rows;
  const lagSeconds = waiting.oldest
    ? Math.max(0, Math.round((now.getTime() - new Date(waiting.oldest).getTime()) / 1000))
    : 0;
  return {
    waiting: Number(waiting.n),
    lagSeconds,
    lagging: lagSeconds > REPLICA_LAG_WARN_SECONDS,
    lastFailure: failure ? { backupId: failure.id, reason: failure.reason } : null,
  };
}

/** The backup metrics of docs/operations.md, plus the staleness gauges the alerts fire on. */
export async function addBackupMetrics(exposition: Exposition, db: Queryable, schedule: BackupSchedule): Promise<void> {
  type Row = Record<string, unknown>;
  const rows = async (query: ReturnType<typeof sql>) => (await db.execute<Row>(query)).rows;
  const health = await backupHealth(db, schedule);
  exposition.gauge(
    "backup_last_success_timestamp_seconds",
    "When the newest completed backup of each type finished.",
    health.freshness
      .filter((f) => f.lastSuccessAt)
      .map((f) => ({ labels: { backup_type: f.kind }, value: Math.floor((f.lastSuccessAt as Date).getTime() / 1000) })),
  );
  const executions = await rows(sql`select kind, status, count(*)::int as n from backups group by 1, 2 order by 1, 2`);
  exposition.counter(
    "backup_executions_total",
    "Backup runs, by type and status.",
    executions.map((r) => ({ labels: { backup_type: String(r.kind), status: String(r.status) }, value: Number(r.n) })),
  );
  const latest = await rows(sql`
    select distinct on (kind) kind, duration_ms, size_bytes from backups
    where status in ('completed', 'verified', 'verification_failed') order by kind, completed_at desc`);
  exposition.gauge(
    "backup_duration_seconds",
    "How long the newest completed backup of each type took.",
    latest.map((r) => ({ labels: { backup_type: String(r.kind) }, value: Number(r.duration_ms ?? 0) / 1000 })),
  );
  exposition.gauge(
    "backup_size_bytes",
    "Stored size of the newest completed backup of each type.",
    latest.map((r) => ({ labels: { backup_type: String(r.kind) }, value: Number(r.size_bytes ?? 0) })),
  );
  const [failures] = await rows(sql`select coalesce(sum(verification_failures), 0)::int as n from backups`);
  exposition.counter("backup_verification_failures_total", "Backup verifications that failed.", [
    { value: Number(failures.n) },
  ]);
  const [newest] = await rows(sql`
    select extract(epoch from now() - max(greatest(snapshot_at, unchanged_at)))::float8 as age from backups
    where status in ('completed', 'verified') and snapshot_at is not null`);
  exposition.gauge(
    "backup_rpo_seconds",
    "What a restore now would lose: seconds since the newest finished backup's snapshot (or the newest empty interval that found it current).",
    newest?.age === null || newest?.age === undefined ? [] : [{ value: Math.round(Number(newest.age)) }],
  );
  const [drill] = await rows(sql`
    select rto_ms, rpo_seconds, status from drills where status in ('passed', 'failed') and rto_ms is not null
    order by completed_at desc limit 1`);
  exposition.gauge(
    "backup_restore_duration_seconds",
    "How long the newest recovery drill took to restore the newest backup chain (its RTO).",
    drill ? [{ value: Number(drill.rto_ms) / 1000 }] : [],
  );
  exposition.gauge(
    "backup_drill_rpo_seconds",
    "The newest drill's RPO: how old the newest restored change was when it began.",
    drill?.rpo_seconds === null || !drill ? [] : [{ value: Number(drill.rpo_seconds) }],
  );
  exposition.gauge(
    "backup_drill_passed",
    "1 when the newest recovery drill restored every table as the manifests say.",
    drill ? [{ value: drill.status === "passed" ? 1 : 0 }] : [],
  );
  if (health.replica) {
    exposition.gauge(
      "backup_replica_lag_seconds",
      "How long the oldest finished backup not yet in the replica bucket has waited (0 when all are copied).",
      [{ value: health.replica.lagSeconds }],
    );
    exposition.gauge("backup_replica_pending", "Finished backups not yet copied to the replica bucket.", [
      { value: health.replica.waiting },
    ]);
  }
  const [changeLog] = await rows(sql`select count(*)::int as n from change_log`);
  exposition.gauge("backup_change_log_rows", "Changes logged and not yet in a verified backup.", [
    { value: Number(changeLog.n) },
  ]);
  exposition.gauge(
    "backup_stale",
    "1 when the newest backup of a type is older than twice its interval (or there is none).",
    health.freshness.map((f) => ({ labels: { backup_type: f.kind }, value: f.stale ? 1 : 0 })),
  );
}

/** One line for /health/ready: what is wrong with backups, or null. */
export function describeProblems(health: BackupHealth): string | null {
  const problems = health.freshness
    .filter((f) => f.stale)
    .map((f) => (f.lastSuccessAt ? `${f.kind} backup is ${f.ageSeconds} s old` : `no ${f.kind} backup yet`));
  if (health.lastVerification && !health.lastVerification.ok)
    problems.push(`verification of ${health.lastVerification.backupId} failed`);
  if (health.replica?.lagging) {
    const failure = health.replica.lastFailure;
    problems.push(
      `replica lags ${health.replica.lagSeconds} s (${health.replica.waiting} backups not copied${failure ? `; last failure: ${failure.reason}` : ""})`,
    );
  }
  return problems.length ? problems.join("; ") : null;
}
