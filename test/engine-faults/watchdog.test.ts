/**
 * The watchdog covers every execution that has not ended, however many wait, visits each on its
 * own, includes paused ones, and the execution view says why each waiting step waits.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runWatchdog } from "../../src/cron/watchdog";
import { query, withDb } from "../helpers/db";
import { start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { createVersion, createWorkflow } from "../helpers/fixtures";
import { call, callJson } from "../helpers/http";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";

const stubOf = (id: string) => env.EXECUTIONS.get(env.EXECUTIONS.idFromName(id));
const watchdog = () => withDb(({ db }) => runWatchdog(db, env));

/** Rows of starts that committed but crashed before reaching their object, quiet since `minutesAgo`. */
async function strandedStarts(
  userId: string,
  versionId: string,
  workflowId: string,
  count: number,
  minutesAgo: number,
) {
  const rows = await query<{ id: string }>(
    `insert into executions (workflow_id, workflow_version_id, status, trigger_type, triggered_by, input, created_at, updated_at, next_check_at)
     select $1, $2, 'pending', 'manual', $3, jsonb_build_object('n', n), now() - make_interval(mins => $5), now() - make_interval(mins => $5),
            now() - make_interval(mins => $5) + interval '30 seconds'
     from generate_series(1, $4) as n returning id`,
    [workflowId, versionId, userId, count, minutesAgo],
  );
  return rows.map((row) => row.id);
}

async function approvalExecutions(token: string, count: number): Promise<string[]> {
  const workflowId = await workflowWith(token, { steps: [{ id: "ok", type: "approval" }] });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await start(token, workflowId));
  for (const id of ids) await waitForExecution(token, id, (e) => stepOf(e, "ok").status === "waiting");
  return ids;
}

describe("the watchdog", () => {
  it("hands off every stranded start, past a page, while over a hundred quieter executions wait on approvals", async () => {
    const user = await signIn("user");
    const waiting = await approvalExecutions(user.token, 110);
    // Worst case: every waiting execution is overdue and quieter than the stranded starts.
    await query(
      "update executions set updated_at = now() - interval '1 hour', next_check_at = now() - interval '1 hour' where id = any($1)",
      [waiting],
    );
    const wf = await createWorkflow(user.token);
    const version = await createVersion(user.token, wf.id, {
      steps: [{ id: "t", type: "transform", output: "{{input.n}}" }],
    });
    const stranded = await strandedStarts(user.id, version.id, wf.id, 230, 10);

    const outcome = await watchdog();
    expect(outcome.checked).toBeGreaterThanOrEqual(340);
    const done = await query<{ status: string; count: string }>(
      "select status, count(*) from executions where id = any($1) group by status",
      [stranded],
    );
    expect(done.filter((row) => row.status === "pending")).toEqual([]);
    const waitingRows = await query<{ next_check_at: Date }>(
      "select next_check_at from executions where id = any($1)",
      [waiting],
    );
    expect(waitingRows.every((row) => row.next_check_at.getTime() > Date.now())).toBe(true);
  }, 120_000);

  it("visits the others when one execution's object throws", async () => {
    const user = await signIn("user");
    const [broken] = await approvalExecutions(user.token, 1);
    // The object's own record no longer parses: its watchdog call throws.
    await runInDurableObject(stubOf(broken), (_instance, state) => {
      state.storage.sql.exec("update meta set value = '{not json' where key = 'execution'");
    });
    await query("update executions set next_check_at = now() - interval '2 hours' where id = $1", [broken]);
    const wf = await createWorkflow(user.token);
    const version = await createVersion(user.token, wf.id, { steps: [{ id: "t", type: "transform", output: 1 }] });
    const stranded = await strandedStarts(user.id, version.id, wf.id, 3, 5);

    const outcome = await watchdog();
    expect(outcome.failed).toBeGreaterThanOrEqual(1);
    for (const id of stranded) expect((await waitForExecution(user.token, id)).status).toBe("completed");
  });

  it("visits paused executions too, and re-flushes an outbox whose timer was lost", async () => {
    const user = await signIn("user");
    const [id] = await approvalExecutions(user.token, 1);
    expect((await callJson(`/api/v1/executions/${id}/pause`, { method: "POST", token: user.token })).status).toBe(200);
    await waitForExecution(user.token, id, (e) => e.status === "paused");
    // Lose the last two rows and the timer that would have sent them again.
    const [{ last }] = await query<{ last: string }>(
      "select max(seq) as last from execution_logs where execution_id = $1",
      [id],
    );
    await runInDurableObject(stubOf(id), (_instance, state) => {
      state.storage.sql.exec("delete from typed_timers");
      state.storage.sql.exec("update meta set value = ? where key = 'flushed_seq'", String(Number(last) - 2));
    });
    await query("delete from execution_logs where execution_id = $1 and seq > $2", [id, Number(last) - 2]);
    await query("update executions set next_check_at = now() - interval '1 minute' where id = $1", [id]);

    const outcome = await watchdog();
    // The lost flush timer is a repair: armed again, logged, and every row reaches Postgres.
    expect(outcome.repairs).toMatchObject({ flush_timer: 1 });
    const rows = await query<{ seq: string; data: { reason?: string; kind?: string } }>(
      "select seq, data from execution_logs where execution_id = $1 order by seq",
      [id],
    );
    expect(rows.map((row) => Number(row.seq))).toEqual(Array.from({ length: Number(last) + 1 }, (_, i) => i + 1));
    expect(rows.at(-1)?.data).toMatchObject({ reason: "invariant_repaired", kind: "flush_timer" });
  });

  it("says in the execution view why each waiting step waits, and until when", async () => {
    const user = await signIn("user");
    const flaky = await scriptEndpoint([{ status: 503 }, { status: 200 }]);
    const id = await start(
      user.token,
      await workflowWith(user.token, {
        steps: [
          { id: "review", type: "approval", approverRoles: ["admin"], timeoutSeconds: 3600, message: "Check it" },
          { id: "nap", type: "delay", seconds: 600 },
          { id: "signal", type: "event", event: "paid", timeoutSeconds: 900 },
          { id: "call", type: "http", request: { url: flaky.url }, retry: { maxAttempts: 3, initialDelayMs: 60_000 } },
        ],
      }),
    );
    const view = await waitForExecution(
      user.token,
      id,
      (e) => e.steps.length === 4 && e.steps.every((s: { status: string }) => s.status === "waiting"),
    );
    expect(stepOf(view, "review").waiting).toMatchObject({
      reason: "approval",
      approverRoles: ["admin"],
      message: "Check it",
      expiresAt: expect.any(String),
    });
    expect(stepOf(view, "nap").waiting).toMatchObject({ reason: "delay", until: expect.any(String) });
    expect(stepOf(view, "signal").waiting).toMatchObject({
      reason: "event",
      event: "paid",
      expiresAt: expect.any(String),
    });
    expect(stepOf(view, "call").waiting).toMatchObject({
      reason: "retry",
      nextAttemptAt: expect.any(String),
      attempt: 2,
    });
    expect(new Date(stepOf(view, "nap").waiting.until).getTime()).toBeGreaterThan(Date.now() + 500_000);
  });
});

describe("the watchdog's invariants", () => {
  it("arms again every timer a waiting, claimed or ended execution needs and lost, and counts each repair", async () => {
    const owner = await signIn("user");
    const slow = await scriptEndpoint([{ status: 200, delayMs: 4_000 }]);
    const delayed = await start(
      owner.token,
      await workflowWith(owner.token, { steps: [{ id: "pause", type: "delay", seconds: 2 }] }),
    );
    const claimed = await start(
      owner.token,
      await workflowWith(owner.token, { steps: [{ id: "call", type: "http", request: { url: slow.url } }] }),
    );
    await waitForExecution(owner.token, delayed, (e) => stepOf(e, "pause").status === "waiting");
    await waitForExecution(owner.token, claimed, (e) => stepOf(e, "call").status === "running");
    await expect.poll(async () => (await slow.requests()).length).toBe(1);
    // The timers are lost, as a handler that failed before its timer could be re-armed lost them.
    const lose = (id: string, kinds: string[]) =>
      runInDurableObject(stubOf(id), (_instance, state) => {
        for (const kind of kinds) state.storage.sql.exec("delete from typed_timers where key like ?", `${kind}%`);
      });
    await lose(delayed, ["wait"]);
    await lose(claimed, ["lease", "step_timeout"]);
    await query("update executions set next_check_at = now() - interval '1 minute' where id = any($1)", [
      [delayed, claimed],
    ]);
    const before = await repairsOf();
    const outcome = await watchdog();
    expect(outcome.repairs).toMatchObject({ wait_timer: 1, lease_timer: 1, step_timeout_timer: 1 });
    // Each execution goes on: the delay ends, the claimed step completes.
    expect((await waitForExecution(owner.token, delayed, undefined, 30_000)).status).toBe("completed");
    expect((await waitForExecution(owner.token, claimed, undefined, 30_000)).status).toBe("completed");
    const after = await repairsOf();
    for (const kind of ["wait_timer", "lease_timer", "step_timeout_timer"])
      expect((after[kind] ?? 0) - (before[kind] ?? 0), kind).toBeGreaterThanOrEqual(1);
  });
});

/** ipa_invariant_repairs_total by kind, as /metrics shows it. */
async function repairsOf(): Promise<Record<string, number>> {
  const text = await (await call("/metrics", { token: env.METRICS_TOKEN })).text();
  return Object.fromEntries(
    [...text.matchAll(/^ipa_invariant_repairs_total\{kind="([a-z_]+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]),
  );
}
