/**
 * Bulk actions (docs/api.md "Bulk actions"): a dry run counts without changing anything; a job
 * acts on every matched execution as its creator, skips what is not in a state for the action,
 * reports its progress, writes one audit row, and, cut short, resumes without acting twice.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runJob } from "../../src/consumers/jobs";
import { query } from "../helpers/db";
import { start, waitForExecution, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { scriptEndpoint } from "../helpers/outside";
import { signIn, uniqueName } from "../helpers/users";

const WAITING = { steps: [{ id: "wait", type: "delay", seconds: 3600 }] };

async function labelled(token: string, workflowId: string, tag: string): Promise<string> {
  const res = await callJson(`/api/v1/workflows/${workflowId}/executions`, { token, body: { tags: [tag] } });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  await waitForExecution(token, res.body.id, (e) => e.status === "running");
  return res.body.id;
}

const bulk = (token: string, body: Record<string, unknown>) => callJson("/api/v1/executions/bulk", { token, body });

async function finished(token: string, id: string) {
  for (let tries = 0; tries < 150; tries++) {
    const job = await callJson(`/api/v1/executions/bulk/${id}`, { token });
    if (job.body.status !== "running") return job.body;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`bulk job ${id} did not finish`);
}

describe("bulk actions", () => {
  it("dry run: the count and the first ids, nothing changed", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, WAITING);
    const tag = uniqueName("dry");
    const ids = [await labelled(owner.token, workflowId, tag), await labelled(owner.token, workflowId, tag)];
    const dry = await bulk(owner.token, { action: "cancel", filter: { tags: [tag] }, dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toEqual({ matched: 2, executionIds: [ids[1], ids[0]] });
    for (const id of ids)
      expect((await callJson(`/api/v1/executions/${id}`, { token: owner.token })).body.status).toBe("running");
  });

  it("cancels what the filter matched, skips what is not cancellable, and audits the job once", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, WAITING);
    const tag = uniqueName("cancel");
    const running = [await labelled(owner.token, workflowId, tag), await labelled(owner.token, workflowId, tag)];
    const ended = await labelled(owner.token, workflowId, tag);
    await callJson(`/api/v1/executions/${ended}/cancel`, { token: owner.token, method: "POST" });
    await waitForExecution(owner.token, ended);

    const created = await bulk(owner.token, { action: "cancel", filter: { tags: [tag] } });
    expect(created.status).toBe(202);
    expect(created.body.matched).toBe(3);
    const job = await finished(owner.token, created.body.id);
    expect(job).toMatchObject({ status: "completed", matched: 3, done: 2, skipped: 1, failed: 0 });
    for (const id of running) expect((await waitForExecution(owner.token, id)).status).toBe("cancelled");

    const audits = await query<{ after: Record<string, unknown> }>(
      "select after from audit_logs where action = 'execution.bulk_cancel' and resource_id = $1",
      [created.body.id],
    );
    expect(audits).toHaveLength(1);
    expect(audits[0].after).toMatchObject({ filter: { tags: [tag] }, matched: 3, done: 2, skipped: 1 });
  });

  it("retries failed executions as the caller: each runs again", async () => {
    const owner = await signIn("user");
    const flaky = await scriptEndpoint([{ status: 500 }, { status: 500 }, { status: 200, body: { ok: true } }]);
    const workflowId = await workflowWith(owner.token, {
      steps: [{ id: "call", type: "http", request: { url: flaky.url }, retry: { maxAttempts: 1 } }],
    });
    const failed = [await start(owner.token, workflowId), await start(owner.token, workflowId)];
    for (const id of failed) expect((await waitForExecution(owner.token, id)).status).toBe("failed");

    const created = await bulk(owner.token, { action: "retry", filter: { workflowId, status: "failed" } });
    expect(created.body.matched).toBe(2);
    expect(await finished(owner.token, created.body.id)).toMatchObject({ done: 2, skipped: 0 });
    // Each failed execution runs again (its row follows its object).
    for (const id of failed) await waitForExecution(owner.token, id, (e) => e.run === 2);
  });

  it("refuses bad requests and other users' jobs", async () => {
    const owner = await signIn("user");
    const viewer = await signIn("viewer");
    const other = await signIn("user");
    const rerun = await bulk(owner.token, { action: "rerun", filter: {} });
    expect(rerun.status).toBe(422);
    expect(rerun.body.error.details[0].path).toBe("fromStep");
    expect((await bulk(owner.token, { action: "cancel", filter: {}, limit: 10_001 })).status).toBe(422);
    expect((await bulk(owner.token, { action: "stop", filter: {} })).status).toBe(422);
    expect((await bulk(viewer.token, { action: "cancel", filter: {}, dryRun: true })).status).toBe(403);
    const mine = await bulk(owner.token, { action: "cancel", filter: { tags: [uniqueName("none")] } });
    expect(mine.status).toBe(202);
    expect((await callJson(`/api/v1/executions/bulk/${mine.body.id}`, { token: other.token })).status).toBe(404);
  });

  it("resumes a job cut short where it stopped, acting on no execution twice", async () => {
    const owner = await signIn("user");
    const flaky = await scriptEndpoint(Array.from({ length: 6 }, () => ({ status: 500 })));
    const workflowId = await workflowWith(owner.token, {
      steps: [{ id: "call", type: "http", request: { url: flaky.url }, retry: { maxAttempts: 1 } }],
    });
    const ids = [await start(owner.token, workflowId), await start(owner.token, workflowId)];
    for (const id of ids) await waitForExecution(owner.token, id);
    // A job whose first delivery retried the first execution, then died before its next.
    const [job] = await query<{ id: string }>(
      `insert into bulk_jobs (user_id, action, filter, execution_ids, position, done, audit)
       values ($1, 'retry', '{}', $2::uuid[], 1, 1, '{"actorId":null,"actorEmail":"test","ip":null,"userAgent":null,"requestId":null}')
       returning id`,
      [owner.id, ids],
    );
    await runJob({ type: "bulk", bulkJobId: job.id }, env);
    await waitForExecution(owner.token, ids[1], (e) => e.run === 2 && e.status === "failed");
    // The message delivered again finds the job done and does nothing more.
    await runJob({ type: "bulk", bulkJobId: job.id }, env);
    expect(await finished(owner.token, job.id)).toMatchObject({ status: "completed", done: 2, skipped: 0 });
    expect((await callJson(`/api/v1/executions/${ids[0]}`, { token: owner.token })).body.run).toBe(1);
    expect((await callJson(`/api/v1/executions/${ids[1]}`, { token: owner.token })).body.run).toBe(2);
  });

  it("retries 300 failed executions after a dry run, skipping those the caller may no longer act on", async () => {
    const owner = await signIn("user");
    const other = await signIn("user");
    const down = await scriptEndpoint([{ status: 500 }]);
    const failing = { steps: [{ id: "call", type: "http", request: { url: down.url }, retry: { maxAttempts: 1 } }] };
    const [kept, handedOver] = [await workflowWith(owner.token, failing), await workflowWith(owner.token, failing)];
    const tag = uniqueName("bulk300");
    const startTagged = async (workflowId: string) => {
      const res = await callJson(`/api/v1/workflows/${workflowId}/executions`, {
        token: owner.token,
        body: { tags: [tag] },
      });
      expect(res.status).toBe(202);
      return res.body.id as string;
    };
    // The oldest 100 on the workflow that will change hands, then 200 on the one that stays.
    const ids: string[] = [];
    for (let n = 0; n < 300; n++) ids.push(await startTagged(n < 100 ? handedOver : kept));
    // Watched in Postgres: 300 executions polled through the API would meet the per-user rate limit.
    const countWhere = async (condition: string) =>
      (
        await query<{ n: number }>(`select count(*)::int as n from executions where $1 = any(tags) and ${condition}`, [
          tag,
        ])
      )[0].n;
    const until = async (condition: string, n: number) => {
      for (let tries = 0; (await countWhere(condition)) < n; tries++) {
        if (tries > 600) throw new Error(`fewer than ${n} executions where ${condition}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    await until("status = 'failed'", 300);

    const filter = { tags: [tag], status: "failed" };
    const dry = await bulk(owner.token, { action: "retry", filter, dryRun: true });
    expect(dry.body.matched).toBe(300);
    expect(dry.body.executionIds).toEqual(ids.slice(-20).reverse());
    const runs = await query<{ run: number; n: number }>(
      "select run, count(*)::int as n from executions where $1 = any(tags) group by run",
      [tag],
    );
    expect(runs).toEqual([{ run: 1, n: 300 }]);

    // The job matched all 300; before it acts, one workflow passes to another user.
    const [job] = await query<{ id: string }>(
      `insert into bulk_jobs (user_id, action, filter, execution_ids, scopes, audit)
       values ($1, 'retry', $2, $3::uuid[], null, '{"actorId":null,"actorEmail":"test","ip":null,"userAgent":null,"requestId":null}')
       returning id`,
      [owner.id, JSON.stringify(filter), [...ids].reverse()],
    );
    await query("update workflows set owner_id = $2 where id = $1", [handedOver, other.id]);
    await query("update executions set triggered_by = $2 where workflow_id = $1", [handedOver, other.id]);
    while (await runJob({ type: "bulk", bulkJobId: job.id }, env));
    expect(await finished(owner.token, job.id)).toMatchObject({
      status: "completed",
      matched: 300,
      done: 200,
      skipped: 100,
      failed: 0,
    });
    await until("run = 2 and status = 'failed'", 200);
    const after = await query<{ workflow_id: string; run: number; n: number }>(
      "select workflow_id, run, count(*)::int as n from executions where $1 = any(tags) group by 1, 2 order by 2",
      [tag],
    );
    expect(after).toEqual([
      { workflow_id: handedOver, run: 1, n: 100 },
      { workflow_id: kept, run: 2, n: 200 },
    ]);
  }, 180_000);
});
