/** The execution state machine, command by command, on a real object's storage (no queue, no Postgres). */
import { describe, expect, it } from "vitest";
import { LEASE_MS } from "../../src/durable-objects/execution/clocks";
import { RESEND_UNSENT_MS } from "../../src/durable-objects/execution/transitions";
import type { ClaimResult } from "../../src/steps/task";
import { machineFor, startRequest } from "../helpers/machine";

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const HTTP = {
  steps: [{ id: "call", type: "http", request: { url: "https://api.example.com/x" }, timeoutSeconds: 20 }],
};

async function claimed(harness: ReturnType<typeof machineFor>, at: number) {
  const step = await harness.read((store) => store.step("call"));
  const { result } = await harness.run(at, (m) => m.claim("call", step?.attempt ?? 0, step?.idempotencyKey ?? ""));
  return result as ClaimResult;
}

describe("the execution state machine", () => {
  it("grants one lease per attempt: a second claim waits, reports without the lease are refused", async () => {
    const harness = machineFor();
    const { effects } = await harness.run(T0, (m) => m.start(startRequest(HTTP)));
    expect(effects.enqueue).toHaveLength(1);
    const first = await claimed(harness, T0 + 10);
    expect(first.kind).toBe("run");
    if (first.kind !== "run") return;
    expect(await claimed(harness, T0 + 20)).toMatchObject({ kind: "busy" });
    const wrong = await harness.run(T0 + 30, (m) => m.complete("call", 1, "someone-else", { ok: true, output: 1 }));
    expect(wrong.result).toEqual({ accepted: false, reason: "lease_lost" });
    const right = await harness.run(T0 + 40, (m) => m.complete("call", 1, first.task.lease, { ok: true, output: 1 }));
    expect(right.result).toEqual({ accepted: true });
    expect((await harness.read((store) => store.execution()))?.status).toBe("completed");
  });

  it("re-sends an attempt whose consumer stopped heartbeating, and refuses the old consumer's late report", async () => {
    const harness = machineFor();
    await harness.run(T0, (m) => m.start(startRequest(HTTP)));
    const first = await claimed(harness, T0);
    if (first.kind !== "run") throw new Error("not claimed");
    const beat = await harness.run(T0 + LEASE_MS / 2, (m) => m.heartbeat("call", 1, first.task.lease));
    expect(beat.result).toEqual({ accepted: true });
    const expiry = T0 + LEASE_MS / 2 + LEASE_MS + 1;
    const fired = await harness.run(expiry, (m) => m.onTimer({ kind: "lease", stepId: "call", attempt: 1 }));
    expect(fired.effects.enqueue).toEqual([expect.objectContaining({ stepId: "call", attempt: 1 })]);
    const second = await claimed(harness, expiry + 5);
    if (second.kind !== "run") throw new Error("not claimed again");
    expect(second.task.claims).toBe(2);
    expect(second.task.lease).not.toBe(first.task.lease);
    const late = await harness.run(expiry + 10, (m) =>
      m.complete("call", 1, first.task.lease, { ok: true, output: "late" }),
    );
    expect(late.result).toEqual({ accepted: false, reason: "lease_lost" });
  });

  it("arms the step timeout when the attempt is claimed, not when it is queued", async () => {
    const harness = machineFor();
    await harness.run(T0, (m) => m.start(startRequest(HTTP)));
    const claimAt = T0 + 120_000;
    const claim = await claimed(harness, claimAt);
    if (claim.kind !== "run") throw new Error("not claimed");
    expect(claim.task.deadline).toBe(claimAt + 20_000);
    const timer = await harness.read((store) => store.timer("step_timeout:call"));
    expect(timer?.due).toBe(claimAt + 20_000);
  });

  it("arms a re-send with every dispatch, and sends again when it fires unclaimed", async () => {
    const harness = machineFor();
    await harness.run(T0, (m) => m.start(startRequest(HTTP)));
    const timer = await harness.read((store) => store.timer("dispatch:call"));
    expect(timer).toMatchObject({
      timer: { kind: "dispatch", stepId: "call", attempt: 1 },
      due: T0 + RESEND_UNSENT_MS,
    });
    const fired = await harness.run(T0 + RESEND_UNSENT_MS, (m) =>
      m.onTimer({ kind: "dispatch", stepId: "call", attempt: 1 }),
    );
    expect(fired.effects.enqueue).toEqual([expect.objectContaining({ stepId: "call", attempt: 1 })]);
    expect((await harness.read((store) => store.timer("dispatch:call")))?.due).toBeGreaterThan(T0 + RESEND_UNSENT_MS);
  });

  it("backs off re-sending a message whose send failed", async () => {
    const harness = machineFor();
    await harness.run(T0, (m) => m.start(startRequest(HTTP)));
    const dues: number[] = [];
    for (let failures = 0; failures < 4; failures++) {
      await harness.run(T0, (m) => m.sendFailed([{ stepId: "call", attempt: 1 }]));
      dues.push(((await harness.read((store) => store.timer("dispatch:call")))?.due ?? 0) - T0);
    }
    expect(dues).toEqual([5_000, 10_000, 20_000, 40_000]);
  });

  it("numbers attempts across runs and gives a rerun a new idempotency key", async () => {
    const harness = machineFor();
    await harness.run(T0, (m) => m.start(startRequest(HTTP)));
    const first = await claimed(harness, T0);
    if (first.kind !== "run") throw new Error("not claimed");
    await harness.run(T0 + 1, (m) => m.complete("call", 1, first.task.lease, { ok: true, output: "one" }));
    const rerun = await harness.run(T0 + 2, (m) =>
      m.rerun({
        fromStep: "call",
        version: null,
        input: undefined,
        dryRun: false,
        actingUserId: null,
        agents: {},
        audit: AUDIT,
      }),
    );
    expect(rerun.result).toMatchObject({ ok: true, plan: { run: 2, rerun: [{ stepId: "call", sideEffects: true }] } });
    const step = await harness.read((store) => store.step("call"));
    expect(step).toMatchObject({ attempt: 2, run: 2, status: "running" });
    expect(step?.idempotencyKey).not.toBe(first.task.idempotencyKey);
    const stale = await harness.run(T0 + 3, (m) => m.claim("call", 1, first.task.idempotencyKey));
    expect(stale.result).toEqual({ kind: "stale" });
  });

  it("appends nothing once the execution has ended", async () => {
    const harness = machineFor();
    await harness.run(T0, (m) => m.start(startRequest(HTTP)));
    const step = await harness.read((store) => store.step("call"));
    await harness.run(T0 + 1, (m) => m.control({ action: "cancel", actingUserId: null, audit: AUDIT }));
    const seq = await harness.read((store) => store.lastSeq());
    await harness.run(T0 + 2, (m) => m.deadLetter("call", 1, step?.idempotencyKey ?? ""));
    await harness.run(T0 + 3, (m) =>
      m.childFinished("call", { executionId: crypto.randomUUID(), status: "completed", output: null, error: null }),
    );
    await harness.run(T0 + 4, (m) => m.onTimer({ kind: "execution_timeout" }));
    // These have no guard of their own: only `emit` refuses an event after the end.
    await harness.run(T0 + 5, (m) => m.noteTimerFailure({ kind: "dispatch", stepId: "call", attempt: 1 }, 1, 1000));
    await harness.run(T0 + 6, (m) => m.checkInvariants());
    expect(await harness.read((store) => store.lastSeq())).toBe(seq);
  });

  it("keeps an agent attempt's checkpoint and counts its tokens once", async () => {
    const harness = machineFor();
    const agentId = crypto.randomUUID();
    await harness.run(T0, (m) =>
      m.start(startRequest({ steps: [{ id: "ask", type: "agent", agentId, prompt: "hi" }] })),
    );
    const step = await harness.read((store) => store.step("ask"));
    const { result } = await harness.run(T0, (m) => m.claim("ask", 1, step?.idempotencyKey ?? ""));
    if (result.kind !== "run") throw new Error("not claimed");
    const state = {
      messages: [
        { role: "user" as const, content: "hi" },
        { role: "assistant" as const, content: "hello" },
      ],
      iterations: 1,
      usage: { promptTokens: 10, completionTokens: 5 },
      toolCalls: [],
      model: "m",
    };
    await harness.run(T0 + 1, (m) => m.checkpoint("ask", 1, result.task.lease, state));
    await harness.run(T0 + 2, (m) => m.checkpoint("ask", 1, result.task.lease, state));
    const again = await harness.run(T0 + 3, (m) => m.release("ask", 1, result.task.lease));
    expect(again.result).toEqual({ accepted: true });
    const reclaim = await harness.run(T0 + 4, (m) => m.claim("ask", 1, step?.idempotencyKey ?? ""));
    if (reclaim.result.kind !== "run") throw new Error("not claimed again");
    expect(reclaim.result.task.checkpoint).toEqual(state);
    await harness.run(T0 + 5, (m) =>
      m.complete("ask", 1, reclaim.result.kind === "run" ? reclaim.result.task.lease : "", {
        ok: true,
        output: { text: "hello" },
        usage: { promptTokens: 10, completionTokens: 5 },
      }),
    );
    expect(await harness.read((store) => store.execution())).toMatchObject({ promptTokens: 10, completionTokens: 5 });
  });
});

const AUDIT = { actorId: null, actorEmail: "test", ip: null, userAgent: null, requestId: null };
