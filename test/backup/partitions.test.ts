/**
 * Monthly partitions of execution_logs and audit_logs (src/db/partitions.ts) across a month
 * boundary, against a database of their own: rows either side of it land in their months, the
 * audit chain links and verifies across them (and names a row edited in the older month), a
 * full backup restores both months, log archival drops whole months once R2 holds them (no
 * DELETE), and the incremental after the drop restores to the same checksums.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { linkAuditChain } from "../../src/audit/sequencer";
import { verifyAuditChain } from "../../src/audit/verify";
import {
  createPartitionsAhead,
  ensurePartitions,
  monthStart,
  partitionHealth,
  partitionName,
} from "../../src/db/partitions";
import { archiveLogs } from "../../src/logs/archive";
import { readLogs } from "../../src/services/executions";
import { backupHarness } from "../helpers/backup";

const { open, seed, sql, takeBackup, verify } = backupHarness(env.TEST_PARTITIONS_DATABASE_URL);

const now = new Date();
/** The boundary: the start of the month before last, so both months are past and archivable. */
const boundary = monthStart(now, -1);
const older = monthStart(now, -2);
const lastMillisecond = new Date(boundary.getTime() - 1);

async function withDb<T>(run: (db: ReturnType<typeof open>["db"]) => Promise<T>): Promise<T> {
  const session = open();
  try {
    return await run(session.db);
  } finally {
    await session.close();
  }
}

const monthOf = (table: string, where: string, params: unknown[]) =>
  sql<{ month: string }>(`select tableoid::regclass::text as month from ${table} where ${where}`, params);

describe("monthly partitions across a month boundary", () => {
  let executionId: string;
  let full: any;

  it("creates the coming months ahead, and files each row in its own month", async () => {
    const ahead = await withDb((db) => createPartitionsAhead(db, new Date(Date.UTC(2031, 4, 20))));
    expect(ahead).toEqual({ execution_logs: 3, audit_logs: 3 });
    expect(await withDb((db) => createPartitionsAhead(db, new Date(Date.UTC(2031, 4, 20))))).toEqual({
      execution_logs: 0,
      audit_logs: 0,
    });
    const [made] = await sql<{ n: number }>(
      `select count(*)::int as n from pg_class where relname in ('execution_logs_p2031_05', 'execution_logs_p2031_07', 'audit_logs_p2031_06')`,
    );
    expect(made.n).toBe(3);

    await seed(100);
    for (const table of ["execution_logs", "audit_logs"] as const)
      await withDb((db) => ensurePartitions(db, table, older, boundary));
    [{ id: executionId }] = await sql<{ id: string }>("select id from executions order by created_at limit 1");
    await sql(
      `insert into execution_logs (execution_id, seq, event, message, created_at)
       values ($1, 9001, 'log', 'last of the month', $2), ($1, 9002, 'log', 'first of the next', $3)`,
      [executionId, lastMillisecond, boundary],
    );
    await sql(
      `insert into audit_logs (action, resource_type, created_at)
       values ('boundary.before', 'test', $1), ('boundary.after', 'test', $2)`,
      [lastMillisecond, boundary],
    );
    await withDb((db) => linkAuditChain(db));

    expect(await monthOf("execution_logs", "seq = 9001", [])).toEqual([
      { month: partitionName("execution_logs", older) },
    ]);
    expect(await monthOf("execution_logs", "seq = 9002", [])).toEqual([
      { month: partitionName("execution_logs", boundary) },
    ]);
    expect(await monthOf("audit_logs", "action = $1", ["boundary.before"])).toEqual([
      { month: partitionName("audit_logs", older) },
    ]);
    expect(await monthOf("audit_logs", "action = $1", ["boundary.after"])).toEqual([
      { month: partitionName("audit_logs", boundary) },
    ]);
  });

  it("links and verifies the audit chain across months, and names a row edited in the older one", async () => {
    expect(await withDb(verifyAuditChain)).toMatchObject({ valid: true });
    const [target] = await sql<{ seq: string }>("select seq from audit_logs where action = 'boundary.before'");
    const tamper = async (action: string) => {
      const session = open();
      const client = await session.pool.connect();
      try {
        await client.query("begin");
        await client.query(`alter table ${partitionName("audit_logs", older)} disable trigger audit_logs_append_only`);
        await client.query("update audit_logs set action = $1 where seq = $2", [action, target.seq]);
        await client.query("commit");
      } finally {
        client.release();
        await session.close();
      }
    };
    await tamper("boundary.nothing_to_see");
    expect(await withDb(verifyAuditChain)).toMatchObject({
      valid: false,
      brokenAt: { seq: Number(target.seq), reason: "content_changed" },
    });
    await tamper("boundary.before");
    expect(await withDb(verifyAuditChain)).toMatchObject({ valid: true });
    // The months refuse a TRUNCATE of their own, not only through the parent.
    await expect(sql(`truncate ${partitionName("audit_logs", older)}`)).rejects.toThrow(/immutable/);
  });

  it("backs up and restores the partitioned tables as one table each, every month included", async () => {
    full = await takeBackup("full");
    const names = full.manifest.tables.map((table: { name: string }) => table.name);
    expect(names).toContain("execution_logs");
    expect(names).toContain("audit_logs");
    expect(names.filter((name: string) => /_p\d{4}_\d{2}$/.test(name))).toEqual([]);
    const verdict = await verify(full.id);
    expect(verdict).toMatchObject({ ok: true, reason: null });
    expect(verdict.tables.find((t: any) => t.name === "execution_logs")).toMatchObject({ checksumMatches: true });
  });

  it("archives whole past months to R2 and drops their partitions without deleting a row", async () => {
    const lines = await withDb((db) => readLogs(db, env.STORAGE, executionId, { limit: 1000 }));
    const [deletesBefore] = await sql<{ n: number }>(
      "select count(*)::int as n from change_log where table_name = 'execution_logs' and op = 'D'",
    );
    // Run as on the current month's second day: both past months ended more than a day before.
    const secondDay = new Date(monthStart(now).getTime() + 2 * 24 * 3600 * 1000);
    const outcome = await withDb((db) => archiveLogs(db, env.STORAGE, 1, secondDay));
    expect(outcome.failed).toBe(0);
    expect(outcome.dropped).toEqual([
      partitionName("execution_logs", older),
      partitionName("execution_logs", boundary),
    ]);
    const [gone] = await sql<{ older: string | null; boundary: string | null; current: string | null }>(
      "select to_regclass($1)::text as older, to_regclass($2)::text as boundary, to_regclass($3)::text as current",
      [
        partitionName("execution_logs", older),
        partitionName("execution_logs", boundary),
        partitionName("execution_logs", monthStart(now)),
      ],
    );
    expect(gone).toEqual({ older: null, boundary: null, current: partitionName("execution_logs", monthStart(now)) });
    const [deletesAfter] = await sql<{ n: number }>(
      "select count(*)::int as n from change_log where table_name = 'execution_logs' and op = 'D'",
    );
    expect(deletesAfter.n).toBe(deletesBefore.n);
    const drops = await sql<{ pk: { partition: string } }>(
      "select pk from change_log where table_name = 'execution_logs' and op = 'P' order by id",
    );
    expect(drops.map((row) => row.pk.partition)).toEqual(outcome.dropped);
    // Readers see the same lines, the archived months' now from R2.
    expect(await withDb((db) => readLogs(db, env.STORAGE, executionId, { limit: 1000 }))).toEqual(lines);
    expect(lines.items.map((line) => line.seq).slice(-2)).toEqual([9001, 9002]);
    // The audit trail's months stay.
    expect(await withDb(verifyAuditChain)).toMatchObject({ valid: true });
  });

  it("restores the incremental after the drop to the same checksums, without the dropped months", async () => {
    const incremental = await takeBackup("incremental");
    expect(incremental.manifest.previous.id).toBe(full.id);
    const [live] = await sql<{ n: number }>("select count(*)::int as n from execution_logs");
    expect(incremental.manifest.tables.find((t: any) => t.name === "execution_logs").rows).toBe(live.n);
    const verdict = await verify(incremental.id);
    expect(verdict).toMatchObject({ ok: true, reason: null });
  });

  it("takes a row whose month has no partition into the default partition, says so, and moves it once the month exists", async () => {
    const missing = new Date(Date.UTC(2040, 0, 15));
    const month = partitionName("execution_logs", monthStart(missing));
    expect(await sql(`select to_regclass($1) as t`, [month])).toEqual([{ t: null }]);
    await sql(
      "insert into execution_logs (execution_id, seq, event, message, created_at) values ($1, 9100, 'log', 'a late line', $2)",
      [executionId, missing],
    );
    expect(await monthOf("execution_logs", "seq = 9100", [])).toEqual([{ month: "execution_logs_default" }]);
    const health = await withDb((db) => partitionHealth(db, now));
    expect(health.find((h) => h.table === "execution_logs")).toMatchObject({ defaultRows: 1 });

    // The hourly maintenance creates the stray's month, moving it there.
    await withDb((db) => createPartitionsAhead(db, now));
    expect(await monthOf("execution_logs", "seq = 9100", [])).toEqual([{ month }]);
    expect((await withDb((db) => partitionHealth(db, now))).find((h) => h.table === "execution_logs")).toMatchObject({
      defaultRows: 0,
    });
    // Moved, not changed: the change log holds its insert once, and a backup of its key sees one row.
    const [{ n }] = await sql<{ n: number }>(
      "select count(*)::int as n from change_log where table_name = 'execution_logs' and pk->>'seq' = '9100'",
    );
    expect(n).toBe(1);
    expect(await verify((await takeBackup("incremental")).id)).toMatchObject({ ok: true, reason: null });
  });
});
