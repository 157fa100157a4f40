/**
 * Signed event hooks are bound to their target: the signature covers the execution and the event
 * name, and a signature accepted once on any hook of a workflow (a start or an event) is refused
 * on every hook of that workflow. A captured delivery replayed to another execution or under
 * another name answers 409 and that execution keeps waiting.
 */
import { describe, expect, it } from "vitest";
import { signEventHook, signWebhook } from "../../src/services/webhooks";
import { stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { signIn } from "../helpers/users";

async function waitingPair() {
  const owner = await signIn("user");
  const workflowId = await workflowWith(owner.token, {
    steps: [
      { id: "shipped", type: "event", event: "shipped" },
      { id: "paid", type: "event", event: "paid" },
    ],
  });
  const secret = await callJson(`/api/v1/workflows/${workflowId}/webhook-secret`, {
    method: "POST",
    token: owner.token,
  });
  const startOne = async () => {
    const res = await callJson(`/api/v1/workflows/${workflowId}/executions`, {
      token: owner.token,
      body: { input: {} },
    });
    await waitForExecution(owner.token, res.body.id, (e) => stepOf(e, "shipped").status === "waiting");
    return res.body.id as string;
  };
  return { owner, workflowId, secret: secret.body.secret as string, first: await startOne(), second: await startOne() };
}

const deliver = (workflowId: string, executionId: string, name: string, body: string, signature: string) =>
  callJson(`/api/v1/hooks/${workflowId}/executions/${executionId}/events/${name}`, {
    body,
    headers: { "x-ipa-signature": signature },
  });

describe("signed event hooks", () => {
  it("refuse a captured delivery replayed to another execution or under another name (409), which keeps waiting", async () => {
    const { owner, workflowId, secret, first, second } = await waitingPair();
    const body = JSON.stringify({ carrier: "DHL" });
    const signature = await signEventHook(secret, first, "shipped", body);
    expect((await deliver(workflowId, first, "shipped", body, signature)).status).toBe(202);

    const otherExecution = await deliver(workflowId, second, "shipped", body, signature);
    expect(otherExecution.status).toBe(409);
    expect(otherExecution.body.error.code).toBe("WEBHOOK_REPLAYED");
    expect((await deliver(workflowId, first, "paid", body, signature)).status).toBe(409);
    expect((await deliver(workflowId, second, "paid", body, signature)).status).toBe(409);

    const view = await callJson(`/api/v1/executions/${second}`, { token: owner.token });
    expect(stepOf(view.body, "shipped").status).toBe("waiting");
    const firstView = await callJson(`/api/v1/executions/${first}`, { token: owner.token });
    expect(stepOf(firstView.body, "paid").status).toBe("waiting");
  });

  it("refuse a signature made for another execution or name (401): it covers both", async () => {
    const { workflowId, secret, first, second } = await waitingPair();
    const body = "{}";
    const forFirst = await signEventHook(secret, first, "shipped", body);
    expect((await deliver(workflowId, second, "shipped", body, forFirst)).status).toBe(401);
    const forPaid = await signEventHook(secret, second, "paid", body);
    expect((await deliver(workflowId, second, "shipped", body, forPaid)).status).toBe(401);
    // The webhook's signature scheme (no execution, no name) is not an event's.
    expect((await deliver(workflowId, second, "shipped", body, await signWebhook(secret, body))).status).toBe(401);
    expect(
      (await deliver(workflowId, second, "shipped", body, await signEventHook(secret, second, "shipped", body))).status,
    ).toBe(202);
  });

  it("share one replay store with the start hook: a start's signature is refused on the event hooks", async () => {
    const { owner, workflowId, secret, first } = await waitingPair();
    await callJson(`/api/v1/workflows/${workflowId}`, {
      method: "PATCH",
      token: owner.token,
      body: { status: "active" },
    });
    const body = "{}";
    const startSignature = await signWebhook(secret, body);
    const started = await callJson(`/api/v1/hooks/${workflowId}`, {
      body,
      headers: { "x-ipa-signature": startSignature },
    });
    expect(started.status).toBe(202);
    expect((await deliver(workflowId, first, "shipped", body, startSignature)).status).toBe(409);
  });
});
