/**
 * The jobs dead-letter queue: a job that failed every delivery is acknowledged there, logged and
 * counted in ipa_jobs_dead_lettered_total by job type (wrangler.toml routes ipa-jobs' failures to it),
 * and the backup, drill or bulk job it was working on is failed, not left running for ever.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { query } from "../helpers/db";
import { call } from "../helpers/http";
import { signIn } from "../helpers/users";

const deadJobs = async (jobType: string) => {
  const text = await (await call("/metrics", { token: env.METRICS_TOKEN })).text();
  const line = new RegExp(`^ipa_jobs_dead_lettered_total\\{job_type="${jobType}"\\} (\\d+)$`, "m");
  return Number(line.exec(text)?.[1] ?? 0);
};

describe("the jobs dead-letter queue", () => {
  it("acknowledges, logs and counts each job that failed every delivery, by job type", async () => {
    const before = { verify: await deadJobs("verify"), malformed: await deadJobs("malformed") };
    const batch = createMessageBatch("ipa-jobs-dlq", [
      { id: "dead-1", timestamp: new Date(), attempts: 4, body: { type: "verify", backupId: crypto.randomUUID() } },
      { id: "dead-2", timestamp: new Date(), attempts: 4, body: { type: "verify", backupId: crypto.randomUUID() } },
      { id: "dead-3", timestamp: new Date(), attempts: 4, body: { nonsense: true } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.ackAll).toBe(true);
    expect(result.retryMessages).toEqual([]);
    expect(await deadJobs("verify")).toBe(before.verify + 2);
    expect(await deadJobs("malformed")).toBe(before.malformed + 1);
  });

  it("fails the backup, drill and bulk job whose message was dead-lettered, and audits it", async () => {
    const user = await signIn("user");
    // A backup whose every delivery found the lock busy never left `pending`; a drill and a bulk
    // job whose runtime died on every delivery stayed `running`.
    const [backup] = await query<{ id: string }>(
      "insert into backups (kind, prefix) values ('full', 'backups/full/dead/') returning id",
    );
    const [drill] = await query<{ id: string }>("insert into drills (trigger) values ('manual') returning id");
    const [bulk] = await query<{ id: string }>(
      `insert into bulk_jobs (user_id, action, filter, execution_ids, audit)
       values ($1, 'cancel', '{}', '{}', '{"actorId":null,"actorEmail":"test","ip":null,"userAgent":null,"requestId":null}')
       returning id`,
      [user.id],
    );
    const [finished] = await query<{ id: string }>(
      "insert into backups (kind, status, prefix) values ('full', 'failed', 'backups/full/done/') returning id",
    );
    const batch = createMessageBatch("ipa-jobs-dlq", [
      { id: "d1", timestamp: new Date(), attempts: 5, body: { type: "backup", backupId: backup.id } },
      { id: "d2", timestamp: new Date(), attempts: 5, body: { type: "drill", drillId: drill.id } },
      { id: "d3", timestamp: new Date(), attempts: 5, body: { type: "bulk", bulkJobId: bulk.id } },
      { id: "d4", timestamp: new Date(), attempts: 5, body: { type: "backup", backupId: finished.id } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).ackAll).toBe(true);

    const [backupRow] = await query<{ status: string; reason: string; completed_at: Date | null }>(
      "select status, reason, completed_at from backups where id = $1",
      [backup.id],
    );
    expect(backupRow).toMatchObject({ status: "failed", reason: "dead-lettered after 5 deliveries" });
    expect(backupRow.completed_at).not.toBeNull();
    const [drillRow] = await query<{ status: string; reason: string }>(
      "select status, reason from drills where id = $1",
      [drill.id],
    );
    expect(drillRow).toEqual({ status: "failed", reason: "dead-lettered after 5 deliveries" });
    const [bulkRow] = await query<{ status: string }>("select status from bulk_jobs where id = $1", [bulk.id]);
    expect(bulkRow.status).toBe("failed");
    // A backup that had already ended keeps its own outcome (its reason is not overwritten).
    const [finishedRow] = await query<{ reason: string | null }>("select reason from backups where id = $1", [
      finished.id,
    ]);
    expect(finishedRow.reason).toBeNull();

    const audited = await query<{ action: string; resource_id: string }>(
      `select action, resource_id from audit_logs where resource_id = any($1) order by action`,
      [[backup.id, drill.id, bulk.id]],
    );
    expect(audited).toEqual([
      { action: "backup.fail", resource_id: backup.id },
      { action: "drill.fail", resource_id: drill.id },
      { action: "execution.bulk_cancel", resource_id: bulk.id },
    ]);
  });
});
