/**
 * Flow control on starts (docs/workflows.md "Flow control on starts"): `priority` orders a key's
 * queue, `queueTtlSeconds` ends a start that waited too long (`expired`), `singleton` keeps one
 * execution per key going, skipping or superseding the new start, `throttle` lets a number of
 * starts per window pass, and `debounce` folds a burst of starts into one with the last input.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fireCron } from "../helpers/cron";
import { query, withDb } from "../helpers/db";
import { start, waitForExecution, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { signIn } from "../helpers/users";

/** Each execution holds on until its `go` event arrives. */
const holding = (top: Record<string, unknown>) => ({
  ...top,
  steps: [
    { id: "hold", type: "event", event: "go", timeoutSeconds: 600 },
    { id: "done", type: "transform", output: "{{input.customer}}", dependsOn: ["hold"] },
  ],
});

const running = (e: any) => e.status === "running";

const startWith = (token: string, workflowId: string, body: Record<string, unknown>) =>
  callJson(`/api/v1/workflows/${workflowId}/executions`, { token, body });

async function release(token: string, id: string) {
  const sent = await callJson(`/api/v1/executions/${id}/events/go`, { token, body: { payload: {} } });
  expect(sent.status, JSON.stringify(sent.body)).toBeLessThan(300);
  return waitForExecution(token, id);
}

const view = async (token: string, id: string) => (await callJson(`/api/v1/executions/${id}`, { token })).body;

describe("priority", () => {
  it("admits a priority 50 start before earlier priority 0 ones of its key", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, holding({ concurrency: { limit: 1 } }));
    const first = await start(owner.token, workflowId, { customer: "a" });
    await waitForExecution(owner.token, first, running);
    const early = (await startWith(owner.token, workflowId, { input: { customer: "b" } })).body.id;
    const later = (await startWith(owner.token, workflowId, { input: { customer: "c" } })).body.id;
    const urgent = await startWith(owner.token, workflowId, { input: { customer: "d" }, priority: 50 });
    expect(urgent.status).toBe(202);
    expect(urgent.body.status).toBe("queued");

    expect(await view(owner.token, urgent.body.id)).toMatchObject({
      priority: 50,
      queue: { reason: "concurrency", position: 1 },
    });
    expect((await view(owner.token, early)).queue.position).toBe(2);
    expect((await view(owner.token, later)).queue.position).toBe(3);

    await release(owner.token, first);
    await waitForExecution(owner.token, urgent.body.id, running);
    expect((await view(owner.token, early)).status).toBe("queued");
    // Within one priority, arrival order.
    await release(owner.token, urgent.body.id);
    await waitForExecution(owner.token, early, running);
    expect((await view(owner.token, later)).status).toBe("queued");
    await release(owner.token, early);
    // Admitted by early's final flush, a moment after early has ended: until then it is queued.
    await waitForExecution(owner.token, later, running);
    expect((await release(owner.token, later)).status).toBe("completed");
  });

  it("refuses a priority outside -100..100", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, holding({}));
    const res = await startWith(owner.token, workflowId, { priority: 101 });
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain("priority");
  });
});

describe("admission against a cancel", () => {
  it("never starts a queued execution whose cancel committed while admission waited for its row", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, holding({ concurrency: { limit: 1 } }));
    const first = await start(owner.token, workflowId, { customer: "a" });
    await waitForExecution(owner.token, first, running);
    const second = (await startWith(owner.token, workflowId, { input: { customer: "b" } })).body.id;
    // The slot frees without its release (the first ended in Postgres only)...
    await query("update executions set status = 'failed', completed_at = now() where id = $1", [first]);
    await withDb(async ({ pool }) => {
      const canceller = await pool.connect();
      try {
        // ...while a cancel of the queued one holds its row, not yet committed.
        await canceller.query("begin");
        await canceller.query(
          "update executions set status = 'cancelled', completed_at = now() where id = $1 and status = 'queued'",
          [second],
        );
        const sweep = fireCron(new Date(), env);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        await canceller.query("commit");
        await sweep;
      } finally {
        canceller.release();
      }
    });
    const [row] = await query<{ status: string; started_at: Date | null }>(
      "select status, started_at from executions where id = $1",
      [second],
    );
    expect(row).toEqual({ status: "cancelled", started_at: null });
  });
});

describe("queueTtlSeconds", () => {
  it("cancels a start still queued after its time as expired, audited, and leaves the running one alone", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, holding({ concurrency: { limit: 1 }, queueTtlSeconds: 1 }));
    const first = await start(owner.token, workflowId, { customer: "a" });
    await waitForExecution(owner.token, first, running);
    const waiting = (await startWith(owner.token, workflowId, { input: { customer: "b" } })).body.id;
    const queued = await view(owner.token, waiting);
    expect(queued.status).toBe("queued");
    expect(Date.parse(queued.queue.expiresAt) - Date.parse(queued.createdAt)).toBe(1_000);

    // Not yet due: a sweep leaves it queued.
    await fireCron(new Date(), env);
    expect((await view(owner.token, waiting)).status).toBe("queued");
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await fireCron(new Date(), env);

    const expired = await view(owner.token, waiting);
    expect(expired).toMatchObject({ status: "cancelled", startedAt: null, error: { reason: "expired" } });
    await query("select audit_link(100000)");
    const audit = await query<{ action: string; after: { reason: string } }>(
      "select action, after from audit_logs where resource_id = $1 and action = 'execution.cancel'",
      [waiting],
    );
    expect(audit).toEqual([{ action: "execution.cancel", after: { reason: "expired" } }]);
    expect((await view(owner.token, first)).status).toBe("running");
    expect((await release(owner.token, first)).status).toBe("completed");
  });
});

describe("singleton", () => {
  it("skip: a start while one of its key is going answers 200 with that execution, and starts nothing", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(
      owner.token,
      holding({ singleton: { key: "{{input.customer}}", mode: "skip" } }),
    );
    const first = await start(owner.token, workflowId, { customer: "acme" });
    const again = await startWith(owner.token, workflowId, { input: { customer: "acme" } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first, skipped: true });
    // Simultaneous starts of one key: still only the one.
    const burst = await Promise.all(
      Array.from({ length: 5 }, () => startWith(owner.token, workflowId, { input: { customer: "acme" } })),
    );
    expect(burst.map((res) => [res.status, res.body.id])).toEqual(burst.map(() => [200, first]));
    // Another key goes its own way.
    const other = await start(owner.token, workflowId, { customer: "bolt" });
    expect(other).not.toBe(first);
    const rows = await query<{ n: number }>("select count(*)::int as n from executions where workflow_id = $1", [
      workflowId,
    ]);
    expect(rows[0].n).toBe(2);

    // Once it ended, the key starts again.
    expect((await release(owner.token, first)).status).toBe("completed");
    const next = await start(owner.token, workflowId, { customer: "acme" });
    expect(next).not.toBe(first);
    for (const id of [next, other]) await release(owner.token, id);
  });

  it("simultaneous first starts of one key begin one execution", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, holding({ singleton: { mode: "skip" } }));
    const burst = await Promise.all(Array.from({ length: 6 }, () => startWith(owner.token, workflowId, {})));
    const ids = new Set(burst.map((res) => res.body.id));
    expect(ids.size).toBe(1);
    expect(burst.filter((res) => res.status === 202)).toHaveLength(1);
    await release(owner.token, [...ids][0]);
  });

  it("cancel: a new start ends the running one as superseded and begins", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, holding({ singleton: { mode: "cancel" } }));
    const first = await start(owner.token, workflowId, { customer: "a" });
    await waitForExecution(owner.token, first, running);
    const second = await start(owner.token, workflowId, { customer: "b" });
    expect(second).not.toBe(first);
    const ended = await waitForExecution(owner.token, first);
    expect(ended).toMatchObject({ status: "cancelled", error: { reason: "superseded" } });
    await waitForExecution(owner.token, second, running);
    expect((await release(owner.token, second)).status).toBe("completed");
  });

  it("cancel: a superseded execution still queued behind a limit ends without starting", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(
      owner.token,
      holding({ concurrency: { limit: 1 }, singleton: { key: "{{input.customer}}", mode: "cancel" } }),
    );
    const holder = await start(owner.token, workflowId, { customer: "other" });
    await waitForExecution(owner.token, holder, running);
    const queued = (await startWith(owner.token, workflowId, { input: { customer: "acme" } })).body.id;
    expect((await view(owner.token, queued)).status).toBe("queued");
    const replacement = (await startWith(owner.token, workflowId, { input: { customer: "acme" } })).body.id;
    expect(await view(owner.token, queued)).toMatchObject({
      status: "cancelled",
      startedAt: null,
      error: { reason: "superseded" },
    });
    expect((await view(owner.token, replacement)).status).toBe("queued");
    await release(owner.token, holder);
    await waitForExecution(owner.token, replacement, running);
    await release(owner.token, replacement);
  });

  it("refuses start keys that read anything but input, and limits out of range", async () => {
    const owner = await signIn("user");
    const wf = await callJson("/api/v1/workflows", { token: owner.token, body: { name: "bad flow control" } });
    for (const [top, path] of [
      [{ singleton: { key: "{{steps.hold.output}}", mode: "skip" } }, "definition.singleton.key"],
      [{ singleton: { mode: "queue" } }, "definition.singleton.mode"],
      [{ queueTtlSeconds: 0 }, "definition.queueTtlSeconds"],
      [{ throttle: { key: "{{execution.id}}", limit: 1, periodSeconds: 1 } }, "definition.throttle.key"],
      [{ throttle: { limit: 1, periodSeconds: 43_201 } }, "definition.throttle.periodSeconds"],
      [{ debounce: { key: "{{steps.hold.output}}", periodSeconds: 1 } }, "definition.debounce.key"],
      [{ debounce: { periodSeconds: 3601 } }, "definition.debounce.periodSeconds"],
    ] as const) {
      const res = await callJson(`/api/v1/workflows/${wf.body.id}/versions`, {
        token: owner.token,
        body: { definition: holding(top) },
      });
      expect(res.status).toBe(422);
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
  });
});

/** A quick run whose output is its input's `n`. */
const quick = (top: Record<string, unknown>) => ({
  ...top,
  steps: [{ id: "echo", type: "transform", output: "{{input.n}}" }],
});

describe("throttle", () => {
  it("lets at most `limit` starts of a key pass per window, the rest in arrival order as it opens", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(
      owner.token,
      quick({ throttle: { key: "{{input.customer}}", limit: 2, periodSeconds: 2 } }),
    );
    const answers = [];
    for (let n = 0; n < 5; n++)
      answers.push(await startWith(owner.token, workflowId, { input: { customer: "acme", n } }));
    expect(answers.map((res) => res.body.status)).toEqual(["running", "running", "queued", "queued", "queued"]);
    expect(await view(owner.token, answers[4].body.id)).toMatchObject({
      queue: { reason: "throttle", key: "acme", position: 3, limit: 2 },
    });
    // Another key has a window of its own.
    const other = await startWith(owner.token, workflowId, { input: { customer: "bolt", n: 9 } });
    expect(other.body.status).toBe("running");

    for (const res of answers) expect((await waitForExecution(owner.token, res.body.id)).status).toBe("completed");
    const passed = await query<{ n: number; at: Date }>(
      `select (input->>'n')::int as n, throttle_passed_at as at from executions
       where workflow_id = $1 and throttle_key = 'acme' order by throttle_passed_at, created_at`,
      [workflowId],
    );
    expect(passed.map((row) => row.n)).toEqual([0, 1, 2, 3, 4]);
    // Any two windows' worth apart: the third start passed at least a period after the first.
    for (let i = 0; i + 2 < passed.length; i++)
      expect(passed[i + 2].at.getTime() - passed[i].at.getTime()).toBeGreaterThanOrEqual(2_000);
  });
});

describe("debounce", () => {
  it("turns ten starts in a second into one execution with the last input", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(
      owner.token,
      quick({ debounce: { key: "{{input.customer}}", periodSeconds: 1 } }),
    );
    const answers = [];
    for (let n = 0; n < 10; n++)
      answers.push(await startWith(owner.token, workflowId, { input: { customer: "acme", n } }));
    const [first, ...rest] = answers;
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ status: "queued" });
    expect(first.body.debounced).toBeUndefined();
    for (const res of rest) expect(res.body).toMatchObject({ id: first.body.id, status: "queued", debounced: true });
    expect((await view(owner.token, first.body.id)).queue).toMatchObject({ reason: "debounce", key: "acme" });

    const done = await waitForExecution(owner.token, first.body.id);
    expect(done).toMatchObject({ status: "completed", input: { customer: "acme", n: 9 }, output: { echo: 9 } });
    const rows = await query<{ n: number }>("select count(*)::int as n from executions where workflow_id = $1", [
      workflowId,
    ]);
    expect(rows[0].n).toBe(1);
    // Once it began, the next start of the key waits on its own.
    const later = await startWith(owner.token, workflowId, { input: { customer: "acme", n: 10 } });
    expect(later.body.id).not.toBe(first.body.id);
    expect((await waitForExecution(owner.token, later.body.id)).output).toEqual({ echo: 10 });
  });

  it("begins by maxWaitSeconds after the first start however often the key starts", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, quick({ debounce: { periodSeconds: 60, maxWaitSeconds: 1 } }));
    const first = await startWith(owner.token, workflowId, { input: { n: 1 } });
    const second = await startWith(owner.token, workflowId, { input: { n: 2 } });
    expect(second.body).toMatchObject({ id: first.body.id, debounced: true });
    const queued = await view(owner.token, first.body.id);
    expect(Date.parse(queued.queue.until) - Date.parse(queued.createdAt)).toBe(1_000);
    expect((await waitForExecution(owner.token, first.body.id)).output).toEqual({ echo: 2 });
  });

  it("begins a debounced start whose admission message was lost, from the cron", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, quick({ debounce: { periodSeconds: 600 } }));
    const id = (await startWith(owner.token, workflowId, { input: { n: 5 } })).body.id;
    // Its time passed a minute ago and no message came (the one sent is ten minutes out).
    await query("update executions set admit_at = now() - interval '1 minute' where id = $1", [id]);
    await fireCron(new Date(), env);
    expect((await waitForExecution(owner.token, id)).output).toEqual({ echo: 5 });
  });
});
