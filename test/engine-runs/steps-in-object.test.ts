/**
 * First attempts of http steps run in the execution's object itself (INLINE_STEP_ATTEMPTS, 4 by
 * default), under the queue's own claim and lease protocol: the object's short lease is renewed
 * while it runs, an object torn down mid-request hands the attempt to the queue with the same
 * Idempotency-Key, and retries, attempts past the limit and attempts whose timeout is longer than
 * an object's guaranteed life go through the queue.
 */
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { INLINE_LEASE_MS, LEASE_MS, queueLeaseMs } from "../../src/durable-objects/execution/clocks";
import type { StepState } from "../../src/durable-objects/execution/types";
import { logsOf, start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";

const stubOf = (id: string) => env.EXECUTIONS.get(env.EXECUTIONS.idFromName(id));

/** The steps as the object holds them, once `until` holds for them (polled). */
async function objectSteps(id: string, until: (steps: StepState[]) => boolean): Promise<StepState[]> {
  let steps: StepState[] = [];
  for (let tries = 0; tries < 200; tries++) {
    steps = await runInDurableObject(stubOf(id), (_instance, state) =>
      state.storage.sql
        .exec<{ data: string }>("select data from steps order by step_id")
        .toArray()
        .map((row) => JSON.parse(row.data) as StepState),
    );
    if (until(steps)) return steps;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`the object's steps never got there: ${JSON.stringify(steps)}`);
}

const claimed = (step: StepState) => step.lease !== null;

describe("http steps run in the execution's object", () => {
  it("claims a first attempt itself, under its short lease, and sends no step message", async () => {
    const user = await signIn("user");
    const target = await scriptEndpoint([{ status: 200, delayMs: 600, body: { ok: 1 } }]);
    const id = await start(
      user.token,
      await workflowWith(user.token, { steps: [{ id: "call", type: "http", request: { url: target.url } }] }),
    );
    const [step] = await objectSteps(id, (steps) => steps.some(claimed));
    expect(step.lease?.ms).toBe(INLINE_LEASE_MS);
    expect(step.dispatch).toMatchObject({ claims: 1, sends: 0, sent: false });
    const done = await waitForExecution(user.token, id);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "call").output).toMatchObject({ body: { ok: 1 } });
    expect(await target.requests()).toHaveLength(1);
  });

  it("renews its short lease while a slow request runs, so the step runs once", async () => {
    const user = await signIn("user");
    const slow = await scriptEndpoint([{ status: 200, delayMs: INLINE_LEASE_MS + 2_500, body: "slow" }]);
    const id = await start(
      user.token,
      await workflowWith(user.token, { steps: [{ id: "call", type: "http", request: { url: slow.url } }] }),
    );
    const done = await waitForExecution(user.token, id);
    expect(done.status).toBe("completed");
    expect(await slow.requests()).toHaveLength(1);
    expect((await logsOf(user.token, id)).some((line) => line.data?.reason === "lease_expired")).toBe(false);
  }, 30_000);

  it("hands the attempt to the queue with the same Idempotency-Key when the object is torn down mid-request", async () => {
    const user = await signIn("user");
    const target = await scriptEndpoint([
      { status: 200, delayMs: 4_000, body: "never seen" },
      { status: 200, body: "second" },
    ]);
    const id = await start(
      user.token,
      await workflowWith(user.token, { steps: [{ id: "call", type: "http", request: { url: target.url } }] }),
    );
    for (let tries = 0; (await target.requests()).length === 0; tries++) {
      if (tries > 200) throw new Error("the request never reached the target");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await abortAllDurableObjects();
    // Within the short lease and the queue hop, well before a consumer's lease would have run out.
    const done = await waitForExecution(user.token, id, undefined, LEASE_MS - 5_000);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "call")).toMatchObject({ attempt: 1, output: { body: "second" } });
    const requests = await target.requests();
    expect(requests).toHaveLength(2);
    expect(new Set(requests.map((request) => request.headers["idempotency-key"]))).toEqual(
      new Set([stepOf(done, "call").idempotencyKey]),
    );
    expect((await logsOf(user.token, id)).some((line) => line.data?.reason === "lease_expired")).toBe(true);
  }, 40_000);

  it("runs at most four attempts at once in the object; the others go through the queue", async () => {
    const user = await signIn("user");
    // Every request held until all six are claimed, however slowly they are.
    const target = await scriptEndpoint([{ status: 200, sse: ["ok", "end"], holdAfter: 1 }]);
    const ids = ["a", "b", "c", "d", "e", "f"];
    const id = await start(
      user.token,
      await workflowWith(user.token, {
        steps: ids.map((stepId) => ({ id: stepId, type: "http", request: { url: target.url } })),
      }),
    );
    let leases: Array<number | undefined>;
    try {
      const steps = await objectSteps(id, (all) => all.length === ids.length && all.every(claimed));
      leases = steps.map((step) => step.lease?.ms).sort((a = 0, b = 0) => a - b);
    } finally {
      // Held requests would hold the local queue's batch, and every later test's messages behind it.
      await target.release();
    }
    // A consumer's lease is a third of the attempt's timeout (an http step's 30 s by default).
    const queued = queueLeaseMs(30_000);
    expect(leases).toEqual([INLINE_LEASE_MS, INLINE_LEASE_MS, INLINE_LEASE_MS, INLINE_LEASE_MS, queued, queued]);
    expect((await waitForExecution(user.token, id)).status).toBe("completed");
    expect(await target.requests()).toHaveLength(ids.length);
  });

  it("leaves an attempt whose timeout is past the object's window to the queue: a 150 s target is sent once", async () => {
    const user = await signIn("user");
    const slow = await scriptEndpoint([{ status: 200, delayMs: 150_000, body: "late" }]);
    const id = await start(
      user.token,
      await workflowWith(user.token, {
        steps: [{ id: "call", type: "http", request: { url: slow.url }, timeoutSeconds: 180 }],
      }),
    );
    const [step] = await objectSteps(id, (steps) => steps.some(claimed));
    // A consumer's lease: deployed, an object may be cut ~70 s after its last incoming event.
    expect(step.lease?.ms).toBe(LEASE_MS);
    const done = await waitForExecution(user.token, id, undefined, 200_000);
    expect(stepOf(done, "call").output).toMatchObject({ body: "late" });
    const requests = await slow.requests();
    expect(requests).toHaveLength(1);
    expect(requests[0].headers["idempotency-key"]).toBe(stepOf(done, "call").idempotencyKey);
  }, 240_000);

  it("sends a retry through the queue", async () => {
    const user = await signIn("user");
    const flaky = await scriptEndpoint([{ status: 503 }, { status: 200, delayMs: 1_000, body: "second" }]);
    const id = await start(
      user.token,
      await workflowWith(user.token, {
        steps: [
          {
            id: "call",
            type: "http",
            request: { url: flaky.url },
            retry: { maxAttempts: 2, initialDelayMs: 0 },
          },
        ],
      }),
    );
    const [retry] = await objectSteps(id, ([step]) => step?.attempt === 2 && claimed(step));
    expect(retry.lease?.ms).toBe(queueLeaseMs(30_000));
    const done = await waitForExecution(user.token, id);
    expect(stepOf(done, "call")).toMatchObject({ status: "completed", attempt: 2, output: { body: "second" } });
  });
});
