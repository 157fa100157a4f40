import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { query } from "../helpers/db";
import { waitForExecution, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { signIn } from "../helpers/users";

async function fireCron(at: Date) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: at.getTime(), cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

async function scheduledWorkflow(cron: string, timezone?: string) {
  const owner = await signIn("user");
  const workflowId = await workflowWith(owner.token, {
    steps: [{ id: "t", type: "transform", output: "{{input.region}}" }],
  });
  const res = await callJson(`/api/v1/workflows/${workflowId}`, {
    method: "PATCH",
    token: owner.token,
    body: { status: "active", schedule: { cron, timezone, input: { region: "eu" } } },
  });
  expect(res.status).toBe(200);
  // Slots count from when the schedule was set; move that back so the tests can fire past minutes.
  await query("update workflows set schedule_since = now() - interval '1 day' where id = $1", [workflowId]);
  return { owner, workflowId };
}

const executionsOf = (workflowId: string) =>
  query<{ id: string; trigger_type: string }>(
    "select id, trigger_type from executions where workflow_id = $1 order by created_at",
    [workflowId],
  );

describe("schedules", () => {
  it("starts one execution per slot even when cron fires twice for it", async () => {
    const { owner, workflowId } = await scheduledWorkflow("*/5 * * * *");
    const minute = new Date(Math.floor(Date.now() / 300_000) * 300_000);
    await Promise.all([fireCron(minute), fireCron(minute)]);
    await fireCron(new Date(minute.getTime() + 60_000));
    const runs = await executionsOf(workflowId);
    expect(runs).toHaveLength(1);
    expect(runs[0].trigger_type).toBe("schedule");
    const done = await waitForExecution(owner.token, runs[0].id);
    expect(done).toMatchObject({ status: "completed", triggeredBy: null, output: { t: "eu" } });
  });

  it("reads the cron fields in the schedule's time zone", async () => {
    // On the hour in Kolkata (UTC+05:30, no daylight saving time) is half past the hour in UTC.
    const { workflowId } = await scheduledWorkflow("0 * * * *", "Asia/Kolkata");
    const now = new Date();
    await fireCron(now);
    const [{ slot }] = await query<{ slot: Date }>("select slot from schedule_runs where workflow_id = $1", [
      workflowId,
    ]);
    const halfPast = Math.floor((now.getTime() - 1_800_000) / 3_600_000) * 3_600_000 + 1_800_000;
    expect(new Date(slot).getTime()).toBe(halfPast);
  });

  it("does not backfill missed slots: only the latest one runs", async () => {
    const { workflowId } = await scheduledWorkflow("0 * * * *");
    const now = new Date();
    await fireCron(now);
    const [{ slot }] = await query<{ slot: Date }>("select slot from schedule_runs where workflow_id = $1", [
      workflowId,
    ]);
    expect(new Date(slot).getTime()).toBe(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
    expect(await executionsOf(workflowId)).toHaveLength(1);
  });

  it("never runs slots from before the schedule was set, nor for draft workflows", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, { steps: [{ id: "t", type: "transform", output: 1 }] });
    await callJson(`/api/v1/workflows/${workflowId}`, {
      method: "PATCH",
      token: owner.token,
      body: { schedule: { cron: "* * * * *" } },
    });
    await fireCron(new Date(Date.now() + 60_000));
    expect(await executionsOf(workflowId)).toHaveLength(0);
    await callJson(`/api/v1/workflows/${workflowId}`, {
      method: "PATCH",
      token: owner.token,
      body: { status: "active" },
    });
    await fireCron(new Date(Date.now() - 120_000));
    expect(await executionsOf(workflowId)).toHaveLength(0);
    await fireCron(new Date(Date.now() + 60_000));
    expect(await executionsOf(workflowId)).toHaveLength(1);
  });
});
