/** `event` steps and event delivery (docs/workflows.md, docs/api.md). */
import { describe, expect, it } from "vitest";
import { signEventHook } from "../../src/services/webhooks";
import { query } from "../helpers/db";
import { start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { signIn } from "../helpers/users";

const send = (token: string, id: string, name: string, body: unknown, headers: Record<string, string> = {}) =>
  callJson(`/api/v1/executions/${id}/events/${name}`, { token, body, headers });

const schema = { type: "object", properties: { amount: { type: "number" } }, required: ["amount"] };

describe("event steps", () => {
  it("completes a waiting step with the payload, refusing a payload that breaks its schema", async () => {
    const user = await signIn("user");
    const id = await start(
      user.token,
      await workflowWith(user.token, {
        steps: [
          { id: "paid", type: "event", event: "payment.settled", schema },
          { id: "after", type: "transform", output: "{{steps.paid.output.payload.amount}}", dependsOn: ["paid"] },
        ],
      }),
    );
    await waitForExecution(user.token, id, (e) => stepOf(e, "paid").status === "waiting");
    const bad = await send(user.token, id, "payment.settled", { payload: { amount: "ten" } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details).toEqual([expect.objectContaining({ path: "payload.amount" })]);
    expect(stepOf(await waitForExecution(user.token, id, () => true), "paid").status).toBe("waiting");

    const good = await send(user.token, id, "payment.settled", { payload: { amount: 10 } });
    expect(good).toMatchObject({ status: 202, body: { delivered: true, buffered: false } });
    const done = await waitForExecution(user.token, id);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "paid").output).toMatchObject({ payload: { amount: 10 }, receivedAt: expect.any(String) });
    expect(stepOf(done, "after").output).toBe(10);
    const [audit] = await query<{ actor_id: string }>(
      "select actor_id from audit_logs where action = 'execution.event.deliver' and resource_id = $1",
      [id],
    );
    expect(audit.actor_id).toBe(user.id);
  });

  it("buffers an event delivered before its step waits, and consumes it exactly once", async () => {
    const user = await signIn("user");
    const id = await start(
      user.token,
      await workflowWith(user.token, {
        steps: [
          { id: "gate", type: "approval" },
          { id: "first", type: "event", event: "tick", dependsOn: ["gate"] },
          { id: "second", type: "event", event: "tick", dependsOn: ["first"] },
        ],
      }),
    );
    await waitForExecution(user.token, id, (e) => stepOf(e, "gate").status === "waiting");
    const early = await send(user.token, id, "tick", { payload: { n: 1 } }, { "idempotency-key": "tick-1" });
    expect(early.body).toEqual({ delivered: false, buffered: true });
    const again = await send(user.token, id, "tick", { payload: { n: 1 } }, { "idempotency-key": "tick-1" });
    expect(again.body).toEqual({ delivered: false, buffered: true });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    await callJson(`/api/v1/executions/${id}/steps/gate/approve`, { token: user.token, method: "POST" });
    const afterFirst = await waitForExecution(user.token, id, (e) => stepOf(e, "second").status === "waiting");
    expect(stepOf(afterFirst, "first").output.payload).toEqual({ n: 1 });
    const second = await send(user.token, id, "tick", { payload: { n: 2 } });
    expect(second.body).toEqual({ delivered: true, buffered: false });
    const done = await waitForExecution(user.token, id);
    expect(stepOf(done, "second").output.payload).toEqual({ n: 2 });
    expect((await send(user.token, id, "tick", {})).status).toBe(409);
  });

  it("fails the step with reason timeout when no event arrives in time", async () => {
    const user = await signIn("user");
    const id = await start(
      user.token,
      await workflowWith(user.token, { steps: [{ id: "e", type: "event", event: "never", timeoutSeconds: 1 }] }),
    );
    const done = await waitForExecution(user.token, id);
    expect(stepOf(done, "e")).toMatchObject({ status: "failed", error: { reason: "timeout" } });
  });

  it("takes signed events from outside systems and refuses replays, foreign executions and viewers", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, { steps: [{ id: "e", type: "event", event: "shipped" }] });
    const { body } = await callJson(`/api/v1/workflows/${workflowId}/webhook-secret`, {
      method: "POST",
      token: owner.token,
    });
    const id = await start(owner.token, workflowId);
    await waitForExecution(owner.token, id, (e) => stepOf(e, "e").status === "waiting");
    const viewer = await signIn("viewer");
    expect((await send(viewer.token, id, "shipped", {})).status).toBe(403);
    const stranger = await signIn("user");
    expect((await send(stranger.token, id, "shipped", {})).status).toBe(404);

    const payload = JSON.stringify({ carrier: "DHL" });
    const signature = await signEventHook(body.secret, id, "shipped", payload);
    // A wrong signature: its first hex digit changed (to another digit, whatever it was).
    const hook = (path: string, sig = signature) =>
      callJson(path, { body: payload, headers: { "x-ipa-signature": sig } });
    expect(
      (
        await hook(
          `/api/v1/hooks/${workflowId}/executions/${id}/events/shipped`,
          signature.replace(/v1=(.)/, (_, first) => `v1=${first === "0" ? "1" : "0"}`),
        )
      ).status,
    ).toBe(401);
    const other = await workflowWith(owner.token, { steps: [{ id: "t", type: "transform", output: 1 }] });
    expect((await hook(`/api/v1/hooks/${other}/executions/${id}/events/shipped`)).status).toBe(401);
    const delivered = await hook(`/api/v1/hooks/${workflowId}/executions/${id}/events/shipped`);
    expect(delivered).toMatchObject({ status: 202, body: { delivered: true } });
    expect((await hook(`/api/v1/hooks/${workflowId}/executions/${id}/events/shipped`)).status).toBe(409);
    const done = await waitForExecution(owner.token, id);
    expect(stepOf(done, "e").output.payload).toEqual({ carrier: "DHL" });
  });
});
