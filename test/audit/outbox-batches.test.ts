/**
 * An outbox batch is one statement: its audit rows share its millisecond, yet the chain (ordered by
 * time, then id) must link them in the order of their events; and a batch past one statement's
 * 65,535 parameters (a cancelled map of thousands of items) must still be written whole.
 */
import { describe, expect, it } from "vitest";
import type { OutboxBatch } from "../../src/durable-objects/execution/outbox";
import { writeBatch } from "../../src/durable-objects/execution/outbox";
import type { ExecutionRecord, StepState } from "../../src/durable-objects/execution/types";
import { query, withDb } from "../helpers/db";
import { start, workflowWith } from "../helpers/executions";
import { signIn } from "../helpers/users";

/** The execution's record as its object holds it, enough for its row's upsert. */
async function recordOf(executionId: string, workflowId: string, userId: string): Promise<ExecutionRecord> {
  const [row] = await query<{ workflow_version_id: string }>(
    "select workflow_version_id from executions where id = $1",
    [executionId],
  );
  return {
    id: executionId,
    workflowId,
    workflowVersionId: row.workflow_version_id,
    status: "running",
    triggerType: "manual",
    triggeredBy: userId,
    input: {},
    output: null,
    error: null,
    promptTokens: 0,
    completionTokens: 0,
    run: 1,
    startedAt: null,
    completedAt: null,
  } as unknown as ExecutionRecord;
}

describe("an outbox batch", () => {
  it("links its audit rows into the chain in the order of their events", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, { steps: [{ id: "gate", type: "approval" }] });
    const executionId = await start(owner.token, workflowId);
    const context = { actorId: owner.id, actorEmail: owner.email, ip: null, userAgent: null, requestId: null };
    // Written as its object would, with the row itself already newer (`upTo` 0 changes nothing of it).
    const record = await recordOf(executionId, workflowId, owner.id);
    const batch: OutboxBatch = {
      record,
      events: [],
      steps: [],
      audits: Array.from({ length: 12 }, (_, i) => ({
        seq: 1_000 + i,
        audit: { context, entry: { action: `test.order_${i}`, resourceType: "execution", resourceId: executionId } },
      })),
      upTo: 0,
      nextCheckAt: new Date(),
      removedSteps: [],
    };
    await withDb(({ db }) => writeBatch(db, batch));
    await query("select audit_link(10000)");
    const linked = await query<{ action: string }>(
      "select action from audit_logs where resource_id = $1 and action like 'test.order_%' order by seq",
      [executionId],
    );
    expect(linked.map((row) => row.action)).toEqual(batch.audits.map(({ audit }) => audit.entry.action));
  });

  it("writes thousands of changed steps whole, past one statement's parameters", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, { steps: [{ id: "gate", type: "approval" }] });
    const executionId = await start(owner.token, workflowId);
    const steps = Array.from({ length: 4_000 }, (_, n) => ({
      stepId: `each[${n}]`,
      type: "transform",
      status: "skipped",
      attempt: 0,
      run: 1,
      idempotencyKey: `${executionId}:each[${n}]`,
      input: null,
      output: null,
      error: null,
      waiting: null,
      promptTokens: 0,
      completionTokens: 0,
      retries: 0,
      deadLetters: 0,
      startedAt: null,
      completedAt: new Date().toISOString(),
    })) as unknown as StepState[];
    const batch: OutboxBatch = {
      record: await recordOf(executionId, workflowId, owner.id),
      events: [],
      steps,
      audits: [],
      upTo: 0,
      nextCheckAt: new Date(),
      removedSteps: [],
    };
    await withDb(({ db }) => writeBatch(db, batch));
    const [written] = await query<{ n: number }>(
      "select count(*)::int as n from execution_steps where execution_id = $1 and container_step_id = 'each'",
      [executionId],
    );
    expect(written.n).toBe(4_000);
  });
});
