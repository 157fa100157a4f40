/**
 * Recovery drills (docs/backups.md): the newest backup chain restored into the verification database,
 * with RTO, RPO and every table's result stored as a report (Postgres and R2), started by an
 * admin or by the weekly cron slot, one at a time.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { drillReportKey } from "../../src/backup/drill";
import { runJob } from "../../src/consumers/jobs";
import { backupHarness } from "../helpers/backup";
import { fireCron } from "../helpers/cron";
import { query } from "../helpers/db";
import { call, callJson } from "../helpers/http";
import { signIn } from "../helpers/users";

const { envFor, seed, sql, takeBackup } = backupHarness(env.TEST_BACKUP_DATABASE_URL);

async function drillRow(id: string) {
  const [row] = await sql<any>("select * from drills where id = $1", [id]);
  return row;
}

describe("recovery drills", () => {
  it("restores the newest chain, and reports RTO, RPO and every table, in Postgres and R2", async () => {
    await seed(600);
    const full = await takeBackup("full");
    await seed(100);
    const incremental = await takeBackup("incremental");
    expect([full.status, incremental.status]).toEqual(["completed", "completed"]);
    const [{ id }] = await sql<{ id: string }>("insert into drills (trigger) values ('manual') returning id");

    await runJob({ type: "drill", drillId: id }, envFor());
    const row = await drillRow(id);
    expect(row.status, row.reason).toBe("passed");
    expect(row.rto_ms).toBeGreaterThan(0);
    expect(row.rpo_seconds).toBeGreaterThanOrEqual(0);
    const newest = (
      await sql<{ id: string }>(
        "select id from backups where status in ('completed', 'verified') order by snapshot_at desc limit 1",
      )
    )[0];
    expect(row.backup_id).toBe(newest.id);
    expect(row.report.chain.at(-1)).toBe(newest.id);
    expect(row.report.tables.length).toBeGreaterThan(10);
    for (const table of row.report.tables) {
      expect(table, table.name).toMatchObject({ checksumMatches: true, rows: table.expectedRows });
    }
    const stored = await env.STORAGE.get(drillReportKey(id));
    expect(JSON.parse((await stored?.text()) ?? "{}")).toMatchObject({ id, passed: true, backupId: newest.id });

    // A redelivered message for a drill that ended changes nothing.
    await runJob({ type: "drill", drillId: id }, envFor());
    expect((await drillRow(id)).completed_at).toEqual(row.completed_at);
  });

  it("runs weekly from the cron trigger, once per slot", async () => {
    const slot = new Date(Date.UTC(2026, 10, 29, 5, 30)); // a Sunday, 05:30 UTC
    await Promise.all([fireCron(slot, envFor()), fireCron(slot, envFor())]);
    const rows = await sql<{ trigger: string }>(
      "select d.trigger from drills d join job_runs j on j.job = 'drill' and j.slot = $1 where d.trigger = 'schedule' and d.created_at > now() - interval '1 minute'",
      [slot],
    );
    expect(rows).toEqual([{ trigger: "schedule" }]);
  });

  it("is started and read by admins through the API, one at a time, and feeds the metrics", async () => {
    const [admin, user] = await Promise.all([signIn("admin"), signIn("user")]);
    expect((await callJson("/api/v1/admin/drills", { method: "POST", token: user.token })).status).toBe(403);

    const [blocking] = await query<{ id: string }>("insert into drills (trigger) values ('manual') returning id");
    const refused = await callJson("/api/v1/admin/drills", { method: "POST", token: admin.token });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("DRILL_RUNNING");
    await query("update drills set status = 'failed', reason = 'test' where id = $1", [blocking.id]);

    // Other test files may be running a drill of their own: wait for the slot.
    let started = await callJson("/api/v1/admin/drills", { method: "POST", token: admin.token });
    for (let i = 0; i < 240 && started.status === 409; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      started = await callJson("/api/v1/admin/drills", { method: "POST", token: admin.token });
    }
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: "running", trigger: "manual", report: null });
    let drill = started.body;
    for (let i = 0; i < 600 && drill.status === "running"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      drill = (await callJson(`/api/v1/admin/drills/${started.body.id}`, { token: admin.token })).body;
    }
    // The main test database may hold no finished backup: then the drill says so and fails.
    expect(["passed", "failed"]).toContain(drill.status);
    if (drill.status === "failed") expect(drill.reason).toBeTruthy();
    else expect(drill.rtoSeconds).toBeGreaterThan(0);
    const listed = await callJson("/api/v1/admin/drills?limit=5", { token: admin.token });
    expect(listed.body.items.map((d: { id: string }) => d.id)).toContain(started.body.id);

    const metrics = await (await call("/metrics", { token: env.METRICS_TOKEN })).text();
    if (drill.rtoSeconds !== null) expect(metrics).toMatch(/^backup_restore_duration_seconds \d/m);
    expect(metrics).toContain("# TYPE backup_restore_duration_seconds gauge");
  }, 180_000);
});
