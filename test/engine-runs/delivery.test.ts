import {
  abortAllDurableObjects,
  createExecutionContext,
  createMessageBatch,
  evictDurableObject,
  getQueueResult,
  runInDurableObject,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { StepMessage } from "../../src/queues/messages";
import { logsOf, start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";

const stubOf = (id: string) => env.EXECUTIONS.get(env.EXECUTIONS.idFromName(id));

/** The lease a consumer holds on a step's attempt, read from the object's own storage. */
async function leaseOf(id: string, stepId: string): Promise<string> {
  for (let tries = 0; tries < 100; tries++) {
    const lease = await runInDurableObject(stubOf(id), (_instance, state) => {
      const [row] = state.storage.sql
        .exec<{ data: string }>("select data from steps where step_id = ?", stepId)
        .toArray();
      return (JSON.parse(row.data) as { lease: { token: string } | null }).lease?.token ?? null;
    });
    if (lease) return lease;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the step was never claimed");
}

async function messageFor(id: string, stepId: string, token: string): Promise<StepMessage> {
  const execution = await waitForExecution(token, id, (e) => stepOf(e, stepId).status === "running");
  const step = stepOf(execution, stepId);
  return { executionId: id, stepId, attempt: step.attempt, idempotencyKey: step.idempotencyKey };
}

describe("delivery guarantees", () => {
  it("produces one step result when a step message is delivered twice through the real queue", async () => {
    const user = await signIn("user");
    // Held until released, so the duplicate surely arrives while the first delivery is in flight.
    const slow = await scriptEndpoint([{ status: 200, sse: ['{"n":1}', "end"], holdAfter: 1 }]);
    const id = await start(
      user.token,
      await workflowWith(user.token, { steps: [{ id: "call", type: "http", request: { url: slow.url } }] }),
    );
    const message = await messageFor(id, "call", user.token);
    await expect.poll(async () => (await slow.requests()).length).toBe(1);
    // The same message again while the first delivery is in flight, and once more afterwards.
    await env.STEPS_QUEUE.send(message);
    await slow.release();
    const done = await waitForExecution(user.token, id);
    await env.STEPS_QUEUE.send(message);
    // Every copy handled: the queue holds nothing more to deliver.
    await expect.poll(async () => (await env.STEPS_QUEUE.metrics()).backlogCount, { timeout: 30_000 }).toBe(0);

    expect(done.status).toBe("completed");
    expect(stepOf(done, "call")).toMatchObject({ attempt: 1, status: "completed" });
    expect(await slow.requests()).toHaveLength(1);
    const completions = (await logsOf(user.token, id)).filter((l) => l.event === "step.completed");
    expect(completions).toHaveLength(1);
  });

  it("ignores a stale attempt's late result", async () => {
    const user = await signIn("user");
    const flaky = await scriptEndpoint([{ status: 500 }, { status: 200, delayMs: 800, body: "second" }]);
    const id = await start(
      user.token,
      await workflowWith(user.token, {
        steps: [
          { id: "call", type: "http", request: { url: flaky.url }, retry: { maxAttempts: 2, initialDelayMs: 50 } },
        ],
      }),
    );
    await waitForExecution(user.token, id, (e) => stepOf(e, "call").attempt === 2);
    const stub = stubOf(id);
    expect(await stub.completeStep("call", 1, "an-old-lease", { ok: true, output: "late first attempt" })).toEqual({
      accepted: false,
      reason: "stale",
    });
    const done = await waitForExecution(user.token, id);
    expect(stepOf(done, "call").output).toMatchObject({ body: "second" });
    expect(await stub.completeStep("call", 2, "not-its-lease", { ok: true, output: "duplicate" })).toEqual({
      accepted: false,
      reason: "stale",
    });
    expect(stepOf(await waitForExecution(user.token, id), "call").output).toMatchObject({ body: "second" });
  });

  it("loses nothing when the object is evicted with a step in flight and an alarm pending", async () => {
    const user = await signIn("user");
    const slow = await scriptEndpoint([{ status: 200, delayMs: 1200, body: "slow done" }]);
    const id = await start(
      user.token,
      await workflowWith(user.token, {
        steps: [
          { id: "call", type: "http", request: { url: slow.url } },
          { id: "wait", type: "delay", seconds: 2 },
          {
            id: "join",
            type: "transform",
            output: ["{{steps.call.output.body}}", "{{steps.wait.output.waitedSeconds}}"],
            dependsOn: ["call", "wait"],
          },
        ],
      }),
    );
    await waitForExecution(
      user.token,
      id,
      (e) => stepOf(e, "call").status === "running" && stepOf(e, "wait").status === "waiting",
    );
    await evictDurableObject(stubOf(id));
    const done = await waitForExecution(user.token, id);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "join").output).toEqual(["slow done", 2]);
    expect(await slow.requests()).toHaveLength(1);
    const logs = await logsOf(user.token, id);
    expect(logs.map((l) => l.seq)).toEqual(logs.map((_, i) => i + 1));
  });

  it("recovers from the object being torn down abruptly mid-run", async () => {
    const user = await signIn("user");
    const slow = await scriptEndpoint([{ status: 200, delayMs: 800, body: "ok" }]);
    const id = await start(
      user.token,
      await workflowWith(user.token, {
        steps: [
          { id: "call", type: "http", request: { url: slow.url } },
          { id: "wait", type: "delay", seconds: 1, dependsOn: ["call"] },
        ],
      }),
    );
    await waitForExecution(user.token, id, (e) => stepOf(e, "call").status === "running");
    await abortAllDurableObjects();
    const done = await waitForExecution(user.token, id);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "wait").status).toBe("completed");
  });

  it("fails the step with dead_lettered when its message lands in the dead-letter queue", async () => {
    const user = await signIn("user");
    const never = await scriptEndpoint([{ status: 200, delayMs: 10_000 }]);
    const id = await start(
      user.token,
      await workflowWith(user.token, { steps: [{ id: "call", type: "http", request: { url: never.url } }] }),
    );
    const message = await messageFor(id, "call", user.token);
    // Every delivery failed in the consumer, which released its claim each time; the queue gave up.
    const lease = await leaseOf(id, "call");
    expect(await stubOf(id).releaseClaim("call", message.attempt, lease)).toEqual({ accepted: true });
    const batch = createMessageBatch<StepMessage>("ipa-steps-dlq", [
      { id: "dlq-1", timestamp: new Date(), attempts: 6, body: message },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["dlq-1"]);
    const done = await waitForExecution(user.token, id);
    expect(done.status).toBe("failed");
    expect(stepOf(done, "call")).toMatchObject({ status: "failed", error: { reason: "dead_lettered" } });
  });
});
