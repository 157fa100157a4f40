/**
 * Backups against a test database of their own (so nobody else changes the data they compare),
 * with the Worker's real code, the jobs queue's runner and Miniflare's R2.
 */
import { env } from "cloudflare:workers";
import { createPending } from "../../src/backup/catalog";
import { BackupBusyError } from "../../src/backup/run-backup";
import type { VerifyOptions } from "../../src/backup/verify";
import { runJob } from "../../src/consumers/jobs";
import { openDatabase } from "../../src/db/client";

export type BackupHarness = ReturnType<typeof backupHarness>;

export function backupHarness(databaseUrl: string) {
  /** The Worker's environment pointed at this database. */
  const envFor = (extra: Record<string, string> = {}) =>
    ({ ...env, DATABASE_URL: databaseUrl, ...extra }) as typeof env;
  const open = () => openDatabase({ connectionString: databaseUrl, wsProxy: env.NEON_WS_PROXY });
  /** The direct endpoint: for session settings, which the pooled one would leave on a shared connection. */
  const openDirect = () => openDatabase({ connectionString: databaseUrl, wsProxy: env.NEON_DIRECT_WS_PROXY });

  async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    const session = open();
    try {
      return (await session.pool.query(text, params)).rows as T[];
    } finally {
      await session.close();
    }
  }

  /** Creates a pending catalog row and runs the backup job for it, as the jobs queue would. */
  /**
   * Takes a backup. `waitIfBusy`: a test outside the backups project shares the database's one
   * backup lock with that project's files, so it waits for the lock instead of failing with
   * BackupBusyError (the pending row is run again once the lock is free).
   */
  async function takeBackup(
    kind: "full" | "incremental",
    extraEnv: Record<string, string> = {},
    { waitIfBusy = false } = {},
  ): Promise<any> {
    const session = open();
    try {
      const row = await createPending(session.db, kind);
      const deadline = Date.now() + 120_000;
      for (;;) {
        try {
          return await runJob({ type: "backup", backupId: row?.id as string }, envFor(extraEnv));
        } catch (error) {
          if (!waitIfBusy || !(error instanceof BackupBusyError) || Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 1_000));
        }
      }
    } finally {
      await session.close();
    }
  }

  async function verify(
    backupId: string,
    options: VerifyOptions = {},
    extraEnv: Record<string, string> = {},
  ): Promise<any> {
    return runJob({ type: "verify", backupId, mode: options.mode ?? "restore" }, envFor(extraEnv), options);
  }

  /** Seeds users, workflows, versions, executions and their logs (about `logs` lines). */
  async function seed(logs = 500): Promise<void> {
    await sql(`
      with u as (
        insert into users (email, username, password_hash, full_name, roles)
        select 'seed' || i || '-' || md5(random()::text) || '@example.test', 'seed' || i || substr(md5(random()::text), 1, 8), 'x',
               'Seed ' || i || E'\\nline two', '{user}'
        from generate_series(1, 5) i returning id
      ), w as (
        insert into workflows (owner_id, name, tags, metadata)
        select id, 'wf ''quoted'' ' || id, '{a,"b c"}', '{"k": [1, 2, {"x": "y\\\\z"}]}' from u returning id
      ), v as (
        insert into workflow_versions (workflow_id, version_number, definition)
        select id, 1, '{"steps": [{"id": "t", "type": "transform", "output": "é ✓"}]}' from w returning id, workflow_id
      ), e as (
        insert into executions (workflow_id, workflow_version_id, status, trigger_type, input, started_at, completed_at)
        select workflow_id, id, 'completed', 'manual', '{"n": 1}', now() - interval '1 minute', now() from v returning id
      )
      insert into execution_logs (execution_id, seq, level, event, message, data, created_at)
      select e.id, s, 'info', 'log', 'line ' || s, jsonb_build_object('s', s, 'text', repeat('x', 40)), now()
      from e, generate_series(1, ${Math.max(1, Math.ceil(logs / 5))}) s`);
  }

  return { envFor, open, openDirect, sql, takeBackup, verify, seed };
}
