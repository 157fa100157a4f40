/**
 * Concurrency limits (docs/workflows.md `concurrency`, docs/engine.md `queued`): at most `limit` executions per key
 * value are active; the rest wait `queued` and start in arrival order as slots free, including
 * after a release was lost; a burst of simultaneous starts never overfills a key.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fireCron } from "../helpers/cron";
import { query } from "../helpers/db";
import { start, waitForExecution, workflowWith } from "../helpers/executions";
import { call, callJson } from "../helpers/http";
import { connect, ticketFor } from "../helpers/stream";
import { signIn } from "../helpers/users";

/** Each execution holds its slot until its `go` event arrives. */
const limited = (concurrency: Record<string, unknown>) => ({
  concurrency,
  steps: [
    { id: "hold", type: "event", event: "go", timeoutSeconds: 600 },
    { id: "done", type: "transform", output: "{{input.customer}}", dependsOn: ["hold"] },
  ],
});

async function statusOf(token: string, id: string): Promise<string> {
  return (await callJson(`/api/v1/executions/${id}`, { token })).body.status;
}

const running = (e: any) => e.status === "running";

async function release(token: string, id: string) {
  const sent = await callJson(`/api/v1/executions/${id}/events/go`, { token, body: { payload: {} } });
  expect(sent.status, JSON.stringify(sent.body)).toBeLessThan(300);
  return waitForExecution(token, id);
}

describe("concurrency limits", () => {
  it("queues beyond the limit per key and starts the queue in arrival order as slots free", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, limited({ limit: 2, key: "{{input.customer}}" }));
    const [a1, a2] = [
      await start(owner.token, workflowId, { customer: "acme" }),
      await start(owner.token, workflowId, { customer: "acme" }),
    ];
    const a3 = await callJson(`/api/v1/workflows/${workflowId}/executions`, {
      token: owner.token,
      body: { input: { customer: "acme" } },
    });
    expect(a3.status).toBe(202);
    expect(a3.body.status).toBe("queued");
    const a4 = await start(owner.token, workflowId, { customer: "acme" });
    // Another key has slots of its own.
    const b1 = await start(owner.token, workflowId, { customer: "bolt" });
    await waitForExecution(owner.token, b1, running);
    for (const id of [a1, a2]) await waitForExecution(owner.token, id, running);

    const queuedView = (await callJson(`/api/v1/executions/${a4}`, { token: owner.token })).body;
    expect(queuedView).toMatchObject({ status: "queued", queue: { key: "acme", position: 2, limit: 2 } });
    expect((await callJson(`/api/v1/executions/${a3.body.id}`, { token: owner.token })).body.queue.position).toBe(1);
    // Only a cancel reaches a queued execution; an event would start it past the limit.
    const early = await callJson(`/api/v1/executions/${a4}/events/go`, { token: owner.token, body: { payload: {} } });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe("EXECUTION_QUEUED");
    // A viewer of a queued execution gets its snapshot, then "try again later" (1013).
    const viewer = await connect(a4, await ticketFor(owner.token, a4));
    expect(await viewer.closed).toMatchObject({ code: 1013 });
    expect(viewer.messages[0]).toMatchObject({
      type: "snapshot",
      execution: { status: "queued", queue: { position: 2 } },
    });
    const metrics = await (await call("/metrics", { token: env.METRICS_TOKEN })).text();
    expect(metrics).toMatch(new RegExp(`^ipa_executions_queued\\{workflow_id="${workflowId}"\\} 2$`, "m"));

    // a1 ends: the oldest queued (a3) starts, a4 keeps waiting.
    expect((await release(owner.token, a1)).status).toBe("completed");
    await waitForExecution(owner.token, a3.body.id, running);
    expect(await statusOf(owner.token, a4)).toBe("queued");
    expect((await callJson(`/api/v1/executions/${a4}`, { token: owner.token })).body.queue.position).toBe(1);

    // Cancelling a queued execution ends it without ever starting it.
    const cancelled = await callJson(`/api/v1/executions/${a4}/cancel`, { method: "POST", token: owner.token });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe("cancelled");
    const [row] = await query<{ status: string; started_at: Date | null }>(
      "select status, started_at from executions where id = $1",
      [a4],
    );
    expect(row).toEqual({ status: "cancelled", started_at: null });
    for (const id of [a2, a3.body.id, b1]) expect((await release(owner.token, id)).status).toBe("completed");
  });

  it("never overfills a key under a burst of simultaneous starts", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, limited({ limit: 2 }));
    const ids = await Promise.all(
      Array.from({ length: 10 }, (_, n) => start(owner.token, workflowId, { customer: `c${n}` })),
    );
    const rows = await query<{ status: string }>("select status from executions where workflow_id = $1", [workflowId]);
    const counts: Record<string, number> = {};
    for (const { status } of rows) counts[status] = (counts[status] ?? 0) + 1;
    expect(counts.queued).toBe(8);
    expect((counts.pending ?? 0) + (counts.running ?? 0)).toBe(2);
    for (const id of ids) await callJson(`/api/v1/executions/${id}/cancel`, { method: "POST", token: owner.token });
  });

  it("starts a queued execution whose release was lost, from the cron", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, limited({ limit: 1 }));
    const first = await start(owner.token, workflowId, { customer: "x" });
    const second = await start(owner.token, workflowId, { customer: "x" });
    await waitForExecution(owner.token, first, running);
    expect(await statusOf(owner.token, second)).toBe("queued");
    // The slot frees without its release running (the object was lost mid-release, say).
    await query("update executions set status = 'failed', completed_at = now() where id = $1", [first]);
    await fireCron(new Date(), env);
    await waitForExecution(owner.token, second, running);
    expect((await release(owner.token, second)).status).toBe("completed");
  });

  it("refuses a key that reads anything but input, and a limit below one", async () => {
    const owner = await signIn("user");
    const wf = await callJson("/api/v1/workflows", { token: owner.token, body: { name: "bad limits" } });
    for (const [concurrency, path] of [
      [{ limit: 2, key: "{{steps.hold.output}}" }, "definition.concurrency.key"],
      [{ limit: 0 }, "definition.concurrency.limit"],
    ] as const) {
      const res = await callJson(`/api/v1/workflows/${wf.body.id}/versions`, {
        token: owner.token,
        body: { definition: limited(concurrency) },
      });
      expect(res.status).toBe(422);
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
  });
});
