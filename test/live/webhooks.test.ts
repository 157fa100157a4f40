import { describe, expect, it } from "vitest";
import { signWebhook } from "../../src/services/webhooks";
import { query } from "../helpers/db";
import { waitForExecution, workflowWith } from "../helpers/executions";
import { call, callJson } from "../helpers/http";
import { signIn } from "../helpers/users";

async function activeHook(top: Record<string, unknown> = {}) {
  const owner = await signIn("user");
  const workflowId = await workflowWith(owner.token, {
    ...top,
    steps: [{ id: "echo", type: "transform", output: "{{input.event}}" }],
  });
  await callJson(`/api/v1/workflows/${workflowId}`, {
    method: "PATCH",
    token: owner.token,
    body: { status: "active" },
  });
  const res = await callJson(`/api/v1/workflows/${workflowId}/webhook-secret`, { method: "POST", token: owner.token });
  expect(res.status).toBe(201);
  return { owner, workflowId, secret: res.body.secret as string };
}

const deliver = (workflowId: string, body: string, signature?: string) =>
  callJson(`/api/v1/hooks/${workflowId}`, { body, headers: signature ? { "x-ipa-signature": signature } : {} });

describe("webhook trigger", () => {
  it("under debounce, ten deliveries in a second start one execution with the last delivery's input", async () => {
    const { owner, workflowId, secret } = await activeHook({ debounce: { periodSeconds: 1 } });
    const ids = [];
    for (let n = 0; n < 10; n++) {
      const body = JSON.stringify({ event: `e${n}` });
      const res = await deliver(workflowId, body, await signWebhook(secret, body));
      expect(res.status).toBe(202);
      ids.push(res.body.id);
    }
    expect(new Set(ids).size).toBe(1);
    const done = await waitForExecution(owner.token, ids[0]);
    expect(done).toMatchObject({ status: "completed", triggerType: "webhook", output: { echo: "e9" } });
    const rows = await query<{ n: number }>("select count(*)::int as n from executions where workflow_id = $1", [
      workflowId,
    ]);
    expect(rows[0].n).toBe(1);
    // Every delivery is recorded, each naming the one execution.
    const deliveries = await query<{ execution_id: string }>(
      "select execution_id from webhook_deliveries where workflow_id = $1",
      [workflowId],
    );
    expect(deliveries.map((row) => row.execution_id)).toEqual(ids);
  });

  it("starts the workflow with the JSON body as input, owned by the workflow's owner", async () => {
    const { owner, workflowId, secret } = await activeHook();
    expect(secret).toMatch(/^whsec_/);
    const body = JSON.stringify({ event: "push" });
    const res = await deliver(workflowId, body, await signWebhook(secret, body));
    expect(res.status).toBe(202);
    const done = await waitForExecution(owner.token, res.body.id);
    expect(done).toMatchObject({
      status: "completed",
      triggerType: "webhook",
      triggeredBy: null,
      output: { echo: "push" },
    });
  });

  it("refuses a bad signature, a missing one, and a signed body that was altered", async () => {
    const { workflowId, secret } = await activeHook();
    const body = JSON.stringify({ event: "x" });
    expect((await deliver(workflowId, body, await signWebhook("whsec_wrong", body))).status).toBe(401);
    expect((await deliver(workflowId, body)).status).toBe(401);
    const signature = await signWebhook(secret, body);
    expect((await deliver(workflowId, JSON.stringify({ event: "y" }), signature)).status).toBe(401);
    expect((await deliver(crypto.randomUUID(), body, signature)).status).toBe(401);
  });

  it("refuses a signature more than 300 s away", async () => {
    const { workflowId, secret } = await activeHook();
    const body = "{}";
    // Well past the 300 s tolerance either way: a second ticking during the calls cannot bring it back.
    const now = Math.floor(Date.now() / 1000);
    expect((await deliver(workflowId, body, await signWebhook(secret, body, now - 310))).status).toBe(401);
    expect((await deliver(workflowId, body, await signWebhook(secret, body, now + 310))).status).toBe(401);
    expect((await deliver(workflowId, body, await signWebhook(secret, body, now - 200))).status).toBe(202);
  });

  it("refuses a replayed signature with 409 and starts nothing for it", async () => {
    const { workflowId, secret } = await activeHook();
    const body = JSON.stringify({ event: "once" });
    const signature = await signWebhook(secret, body);
    expect((await deliver(workflowId, body, signature)).status).toBe(202);
    const replay = await deliver(workflowId, body, signature);
    expect(replay.status).toBe(409);
    expect(replay.body.error.code).toBe("WEBHOOK_REPLAYED");
    const [{ n }] = await query<{ n: number }>("select count(*)::int as n from executions where workflow_id = $1", [
      workflowId,
    ]);
    expect(n).toBe(1);
  });

  it("rotates the secret (the old one stops working), stores it encrypted, and fires only for active workflows", async () => {
    const { owner, workflowId, secret } = await activeHook();
    const rotated = await callJson(`/api/v1/workflows/${workflowId}/webhook-secret`, {
      method: "POST",
      token: owner.token,
    });
    const body = "{}";
    expect((await deliver(workflowId, body, await signWebhook(secret, body))).status).toBe(401);
    expect((await deliver(workflowId, body, await signWebhook(rotated.body.secret, body))).status).toBe(202);
    const [row] = await query<{ webhook_secret: string }>("select webhook_secret from workflows where id = $1", [
      workflowId,
    ]);
    expect(row.webhook_secret).toMatch(/^enc1:/);
    expect(row.webhook_secret).not.toContain(rotated.body.secret);
    expect(
      JSON.stringify((await callJson(`/api/v1/workflows/${workflowId}`, { token: owner.token })).body),
    ).not.toContain("whsec_");

    await callJson(`/api/v1/workflows/${workflowId}`, {
      method: "PATCH",
      token: owner.token,
      body: { status: "draft" },
    });
    // Another body: the same one signed within the same second would be refused as a replay first.
    const draftBody = '{"draft":true}';
    const draft = await deliver(workflowId, draftBody, await signWebhook(rotated.body.secret, draftBody));
    expect(draft.status).toBe(409);
    expect(draft.body.error.code).toBe("WORKFLOW_NOT_ACTIVE");
  });

  it("refuses a body that is not a JSON object with 422", async () => {
    const { workflowId, secret } = await activeHook();
    const body = "[1,2]";
    const res = await call(`/api/v1/hooks/${workflowId}`, {
      body,
      headers: { "x-ipa-signature": await signWebhook(secret, body), "content-type": "application/json" },
    });
    expect(res.status).toBe(422);
  });
});
