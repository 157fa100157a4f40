import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type BackupRow, findBackup } from "../../src/backup/catalog";
import { applyRetention, keptIds } from "../../src/backup/retention";
import { settings } from "../../src/config";
import worker from "../../src/index";
import { backupHarness } from "../helpers/backup";

const harness = backupHarness(env.TEST_INCREMENTAL_DATABASE_URL);
const { sql, takeBackup, verify, seed } = harness;

async function metricsAndReady() {
  const call = async (path: string, headers: Record<string, string> = {}) => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(new Request(`https://ipa.test${path}`, { headers }), harness.envFor(), ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
  const metrics = await (await call("/metrics", { authorization: `Bearer ${env.METRICS_TOKEN}` })).text();
  // The checks' details (which backups are missing) are for operators: the metrics token shows them.
  const ready = await call("/health/ready", { authorization: `Bearer ${env.METRICS_TOKEN}` });
  return { metrics, ready: { status: ready.status, body: (await ready.json()) as any } };
}

/** These run in order: each builds on the chain the one before left. */
describe("incremental backups", () => {
  it("refuses an incremental with nothing to build on, and says so in the alerts", async () => {
    await expect(takeBackup("incremental")).rejects.toThrow(/take a full backup first/);
    const [row] = await sql<{ status: string }>("select status from backups where kind = 'incremental'");
    expect(row.status).toBe("failed");
    const { metrics, ready } = await metricsAndReady();
    expect(metrics).toContain('backup_stale{backup_type="full"} 1');
    expect(metrics).not.toMatch(/^backup_rpo_seconds /m);
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toContainEqual({
      name: "backups",
      ok: false,
      severity: "warning",
      detail: "no full backup yet; no incremental backup yet",
    });
  });

  it("captures inserts, updates and deletes since the previous backup, and restores the chain", async () => {
    await seed(300);
    const full = await takeBackup("full");
    const rpo = /^backup_rpo_seconds (\d+)$/m.exec((await metricsAndReady()).metrics);
    expect(Number(rpo?.[1])).toBeLessThan(60);
    const [victim] = await sql<{ id: string }>("select id from users order by created_at limit 1 offset 4");
    await sql("delete from execution_logs where seq > 50");
    await sql(
      "update workflows set name = 'renamed', tags = '{x}' where id = (select id from workflows order by created_at limit 1)",
    );
    await seed(100);
    await sql(
      "insert into users (email, username, password_hash, roles) values ('late@example.test', 'lateuser', 'x', '{viewer}')",
    );
    await sql("delete from users where username = 'lateuser'");
    await sql("update users set full_name = 'changed' where id = $1", [victim.id]);

    const first = await takeBackup("incremental");
    expect(first.status).toBe("completed");
    expect(first.manifest).toMatchObject({ kind: "incremental", base: { id: full.id }, previous: { id: full.id } });
    expect(first.manifest.changes.deletes).toBeGreaterThan(0);
    expect(first.manifest.changes.upserts).toBeGreaterThan(0);
    expect(first.baseId).toBe(full.id);
    const verdict = await verify(first.id);
    expect(verdict).toMatchObject({ ok: true, chain: [full.id, first.id] });
  });

  it("never misses a transaction that commits after the backup that could not see it", async () => {
    const session = harness.open();
    const late = await session.pool.connect();
    try {
      await late.query("begin");
      await late.query(
        "insert into users (email, username, password_hash, roles) values ('slow@example.test', 'slowwriter', 'x', '{user}')",
      );
      const during = await takeBackup("incremental");
      expect(during.status).toBe("completed");
      await late.query("commit");
    } finally {
      late.release();
      await session.close();
    }
    const after = await takeBackup("incremental");
    expect(after.manifest.changes.upserts).toBeGreaterThanOrEqual(1);
    const verdict = await verify(after.id);
    expect(verdict.ok).toBe(true);
    expect(verdict.chain).toHaveLength(4);
    const users = verdict.tables.find((t: any) => t.name === "users");
    expect(users.rows).toBe(Number((await sql<{ n: string }>("select count(*) as n from users"))[0].n));
  });

  it("checks each incremental's objects and chain cheaply, and fails a broken chain", async () => {
    const last = await takeBackup("incremental");
    expect(await verify(last.id, { mode: "objects" })).toMatchObject({ ok: true, mode: "objects", tables: [] });
    const middle = (await findBackup(harness.open().db, last.previousId as string)) as BackupRow;
    await env.STORAGE.delete(`${middle.prefix}manifest.json`);
    const broken = await verify(last.id, { mode: "objects" });
    expect(broken).toMatchObject({ ok: false, reason: `manifest of backup ${middle.id} is missing from R2` });
    await sql("delete from backups where id = $1", [middle.id]);
    expect((await verify(last.id, { mode: "objects" })).reason).toBe(
      `chain broken: backup ${middle.id} (before ${last.id}) is gone`,
    );

    const { metrics, ready } = await metricsAndReady();
    expect(metrics).toMatch(/backup_verification_failures_total [1-9]/);
    expect(ready.body.checks.find((c: any) => c.name === "backups").detail).toContain(
      `verification of ${last.id} failed`,
    );
  });
});

describe("retention", () => {
  const day = 24 * 3600 * 1000;
  const now = new Date("2026-11-22T12:00:00Z");
  const row = (id: string, kind: "full" | "incremental", daysAgo: number, extra: Partial<BackupRow> = {}): BackupRow =>
    ({
      id,
      kind,
      status: "completed",
      snapshotAt: new Date(now.getTime() - daysAgo * day),
      createdAt: new Date(now.getTime() - daysAgo * day),
      baseId: null,
      previousId: null,
      prefix: `backups/${kind}/x/${id}/`,
      ...extra,
    }) as BackupRow;
  const config = { RETENTION_INCREMENTAL_DAYS: 7, RETENTION_DAILY_DAYS: 30, RETENTION_MONTHLY_DAYS: 90 } as ReturnType<
    typeof settings
  >;

  it("keeps incrementals 7 days, daily fulls 30, the first full of each month 90, and every chain link still needed", () => {
    const rows = [
      row("full-oct-01", "full", 52, { snapshotAt: new Date("2026-10-01T02:00:00Z") }),
      row("full-oct-02", "full", 51, { snapshotAt: new Date("2026-10-02T02:00:00Z") }),
      row("full-aug-01", "full", 113, { snapshotAt: new Date("2026-08-01T02:00:00Z") }),
      row("full-old-daily", "full", 40),
      row("full-recent", "full", 8),
      row("inc-old", "incremental", 9, { baseId: "full-recent", previousId: "full-recent" }),
      row("inc-link", "incremental", 7.5, { baseId: "full-recent", previousId: "inc-old" }),
      row("inc-new", "incremental", 6.9, { baseId: "full-recent", previousId: "inc-link" }),
      row("running-old", "full", 100, { status: "running" }),
    ];
    const kept = keptIds(rows, config, now);
    expect([...kept].sort()).toEqual(
      ["full-oct-01", "full-recent", "inc-link", "inc-new", "inc-old", "running-old"].sort(),
    );
  });

  it("deletes a backup's objects and its catalog row together", async () => {
    const [old] = await sql<{ id: string; prefix: string }>(
      `insert into backups (kind, status, prefix, snapshot_at, created_at) values ('incremental', 'failed', 'backups/incremental/2026-01-01/old/', now() - interval '20 days', now() - interval '20 days') returning id, prefix`,
    );
    await env.STORAGE.put(`${old.prefix}500-changes.sql.gz`, "old");
    const session = harness.open();
    try {
      const outcome = await applyRetention(session.db, [env.STORAGE], settings(harness.envFor()));
      expect(outcome.deleted).toContain(old.id);
    } finally {
      await session.close();
    }
    expect(await sql("select 1 from backups where id = $1", [old.id])).toHaveLength(0);
    expect((await env.STORAGE.list({ prefix: old.prefix })).objects).toHaveLength(0);
  });
});
