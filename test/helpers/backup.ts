/** Backups against the backup tests' own database, with the Worker's real code and Miniflare's R2. */
import { env } from "cloudflare:workers";
import { createPending } from "../../src/backup/catalog";
import type { VerifyOptions } from "../../src/backup/verify";
import { openDatabase } from "../../src/db/client";
import { runJob } from "../../src/queues/jobs.consumer";

/** The Worker's environment pointed at the backup test database. */
export function backupEnv(extra: Record<string, string> = {}) {
  return { ...env, DATABASE_URL: env.TEST_BACKUP_DATABASE_URL, ...extra } as typeof env;
}

export async function sqlIn<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  const session = openDatabase({ connectionString: env.TEST_BACKUP_DATABASE_URL, wsProxy: env.NEON_WS_PROXY });
  try {
    return (await session.pool.query(text, params)).rows as T[];
  } finally {
    await session.close();
  }
}

/** Creates a pending catalog row and runs the backup job for it, as the jobs queue would. */
export async function takeBackup(kind: "full" | "incremental", extraEnv: Record<string, string> = {}): Promise<any> {
  const session = openDatabase({ connectionString: env.TEST_BACKUP_DATABASE_URL, wsProxy: env.NEON_WS_PROXY });
  try {
    const row = await createPending(session.db, kind);
    return await runJob({ type: "backup", backupId: row?.id as string }, backupEnv(extraEnv));
  } finally {
    await session.close();
  }
}

export async function verify(
  backupId: string,
  options: VerifyOptions = {},
  extraEnv: Record<string, string> = {},
): Promise<any> {
  return runJob({ type: "verify", backupId, mode: options.mode ?? "restore" }, backupEnv(extraEnv), options);
}

/** Seeds users, workflows, versions, executions and their logs (`logs` lines in all). */
export async function seed(logs = 500): Promise<void> {
  await sqlIn(`
    with u as (
      insert into users (email, username, password_hash, full_name, roles)
      select 'seed' || i || '-' || md5(random()::text) || '@example.test', 'seed' || i || substr(md5(random()::text), 1, 8), 'x', 'Seed ' || i || E'\\nline two', '{user}'
      from generate_series(1, 5) i returning id
    ), w as (
      insert into workflows (owner_id, name, tags, metadata) select id, 'wf ''quoted'' ' || id, '{a,"b c"}', '{"k": [1, 2, {"x": "y\\\\z"}]}' from u returning id
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
