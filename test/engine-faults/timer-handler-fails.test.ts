/**
 * A timer whose handler fails is not lost. The fault is injected where the object fires its
 * timers: the first firing of a kind throws (as an R2 read, a reset or any transition failure
 * would), and the timer must still be there afterwards, re-armed with a backoff, so the retry,
 * the delay or the step timeout it carries happens after all; each failure is counted.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TimerKind } from "../../src/durable-objects/execution/timers";
import { logsOf, start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { call } from "../helpers/http";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";

const stubOf = (id: string) => env.EXECUTIONS.get(env.EXECUTIONS.idFromName(id));

/** Makes the object's next firing of a `kind` timer throw, once. */
async function failNextFiring(executionId: string, kind: TimerKind): Promise<void> {
  await runInDurableObject(stubOf(executionId), (instance) => {
    type Fired = { timer?: { kind: TimerKind }; kind?: TimerKind };
    // The object's timer handlers (durable-objects/execution/timer-handlers.ts) fire each timer.
    const object = (instance as unknown as { timers: { fire: (fired: Fired) => Promise<unknown> } }).timers;
    const fire = object.fire.bind(object);
    let failed = false;
    object.fire = async (fired) => {
      if ((fired.timer?.kind ?? fired.kind) === kind && !failed) {
        failed = true;
        throw new Error(`injected: the ${kind} timer's handler failed`);
      }
      return fire(fired);
    };
  });
}

/** ipa_timer_failures_total for the wait timers. */
const timerFailures = async () => {
  const text = await (await call("/metrics", { token: env.METRICS_TOKEN })).text();
  return Number(/^ipa_timer_failures_total\{timer="wait"\} (\d+)$/m.exec(text)?.[1] ?? 0);
};

describe("a timer whose handler fails", () => {
  it("is re-armed: a retry still happens after its timer's first firing failed", async () => {
    const owner = await signIn("user");
    const flaky = await scriptEndpoint([{ status: 503 }, { status: 200, body: { ok: true } }]);
    const id = await start(
      owner.token,
      await workflowWith(owner.token, {
        steps: [
          // A retry 4 s out: long enough to see the step waiting for it on a loaded machine.
          { id: "call", type: "http", request: { url: flaky.url }, retry: { maxAttempts: 3, initialDelayMs: 4000 } },
        ],
      }),
    );
    await waitForExecution(owner.token, id, (e) => stepOf(e, "call").waiting?.reason === "retry");
    await failNextFiring(id, "retry");
    const done = await waitForExecution(owner.token, id, undefined, 30_000);
    expect(done.status).toBe("completed");
    expect(await flaky.requests()).toHaveLength(2);
  });

  it("is re-armed: a delay still ends, and a step timeout still fires", async () => {
    const owner = await signIn("user");
    const slow = await scriptEndpoint([{ status: 200, delayMs: 20_000 }]);
    const delayed = await start(
      owner.token,
      await workflowWith(owner.token, { steps: [{ id: "pause", type: "delay", seconds: 1 }] }),
    );
    await failNextFiring(delayed, "wait");
    const timedOut = await start(
      owner.token,
      await workflowWith(owner.token, {
        steps: [{ id: "call", type: "http", request: { url: slow.url }, timeoutSeconds: 1, retry: { maxAttempts: 1 } }],
      }),
    );
    await failNextFiring(timedOut, "step_timeout");
    expect((await waitForExecution(owner.token, delayed, undefined, 30_000)).status).toBe("completed");
    const failed = await waitForExecution(owner.token, timedOut, undefined, 30_000);
    expect(stepOf(failed, "call").error.reason).toBe("timeout");
  });

  it("is counted: the execution's log says so, and ipa_timer_failures_total counts it", async () => {
    const before = await timerFailures();
    const owner = await signIn("user");
    const id = await start(
      owner.token,
      await workflowWith(owner.token, { steps: [{ id: "pause", type: "delay", seconds: 1 }] }),
    );
    await failNextFiring(id, "wait");
    await waitForExecution(owner.token, id, undefined, 30_000);
    const logs = await logsOf(owner.token, id);
    expect(logs.find((line) => line.data?.reason === "timer_failed")).toMatchObject({
      level: "warn",
      data: { timer: "wait", failures: 1, retryInMs: 1000 },
    });
    await expect.poll(timerFailures, { timeout: 20_000 }).toBeGreaterThan(before);
  });
});
