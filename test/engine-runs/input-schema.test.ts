/** `inputSchema` is checked at every start (docs/workflows.md): manual, webhook, schedule, workflow tool. */
import { describe, expect, it } from "vitest";
import { signWebhook } from "../../src/services/webhooks";
import { stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { addTool, completion, fakeModelAgent } from "../helpers/openai";
import { signIn } from "../helpers/users";

const inputSchema = {
  type: "object",
  properties: { customerId: { type: "string", minLength: 3 }, amount: { type: "number" } },
  required: ["customerId"],
  additionalProperties: false,
};

describe("inputSchema", () => {
  it("refuses a manual start whose input does not match, with details on the fields", async () => {
    const user = await signIn("user");
    const workflowId = await workflowWith(user.token, {
      inputSchema,
      steps: [{ id: "t", type: "transform", output: "{{input.customerId}}" }],
    });
    const bad = await callJson(`/api/v1/workflows/${workflowId}/executions`, {
      token: user.token,
      body: { input: { customerId: "x", amount: "1" } },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: any) => d.path).sort()).toEqual(["input.amount", "input.customerId"]);
    // A missing property is named in the path, for the form field that should show it.
    const missing = await callJson(`/api/v1/workflows/${workflowId}/executions`, {
      token: user.token,
      body: { input: { amount: 1 } },
    });
    expect(missing.status).toBe(422);
    expect(missing.body.error.details).toEqual([
      { path: "input.customerId", message: expect.stringContaining("customerId") },
    ]);
    const good = await callJson(`/api/v1/workflows/${workflowId}/executions`, {
      token: user.token,
      body: { input: { customerId: "c-1" } },
    });
    expect(good.status).toBe(202);
  });

  it("refuses a webhook whose body does not match", async () => {
    const user = await signIn("user");
    const workflowId = await workflowWith(user.token, {
      inputSchema,
      steps: [{ id: "t", type: "transform", output: 1 }],
    });
    await callJson(`/api/v1/workflows/${workflowId}`, {
      method: "PATCH",
      token: user.token,
      body: { status: "active" },
    });
    const { body } = await callJson(`/api/v1/workflows/${workflowId}/webhook-secret`, {
      method: "POST",
      token: user.token,
    });
    const payload = JSON.stringify({ amount: 3 });
    const res = await callJson(`/api/v1/hooks/${workflowId}`, {
      body: payload,
      headers: { "x-ipa-signature": await signWebhook(body.secret, payload) },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual([expect.objectContaining({ path: "input.customerId" })]);
  });

  it("hands a workflow tool's refusal back to the model instead of failing the step", async () => {
    const admin = await signIn("admin");
    const child = await workflowWith(admin.token, { inputSchema, steps: [{ id: "t", type: "transform", output: 1 }] });
    const { endpoint, agent } = await fakeModelAgent(admin.token, [
      completion({ toolCalls: [{ name: "charge", arguments: { amount: 5 } }] }),
      completion({ content: "I could not charge." }),
    ]);
    await addTool(admin.token, agent.id, {
      toolName: "charge",
      toolType: "workflow",
      configuration: { workflowId: child },
    });
    const parent = await workflowWith(admin.token, {
      steps: [{ id: "ask", type: "agent", agentId: agent.id, prompt: "charge" }],
    });
    const started = await callJson(`/api/v1/workflows/${parent}/executions`, { token: admin.token, body: {} });
    const done = await waitForExecution(admin.token, started.body.id, undefined, 30_000);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "ask").output.text).toBe("I could not charge.");
    const second = JSON.parse((await endpoint.requests())[1].body);
    const tool = second.messages.find((m: any) => m.role === "tool");
    expect(JSON.parse(tool.content)).toMatchObject({ error: expect.stringContaining("inputSchema") });
  });

  it("refuses a version whose inputSchema cannot be used", async () => {
    const user = await signIn("user");
    const { createWorkflow } = await import("../helpers/fixtures");
    const wf = await createWorkflow(user.token);
    const res = await callJson(`/api/v1/workflows/${wf.id}/versions`, {
      token: user.token,
      body: { definition: { inputSchema: { type: "obj" }, steps: [{ id: "t", type: "transform", output: 1 }] } },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual([expect.objectContaining({ path: "definition.inputSchema.type" })]);
  });
});
