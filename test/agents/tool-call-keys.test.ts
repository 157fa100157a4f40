/**
 * Tool calls are keyed by where they stand in the attempt, never by the provider's id: providers
 * fill missing ids with `call_1`, `call_2`… afresh in every answer, so an agent that charges 5 in
 * one answer and 7 in the next must send two Idempotency-Keys, and a second workflow-tool call
 * must start a second child, not find the first.
 */
import { describe, expect, it } from "vitest";
import { query } from "../helpers/db";
import { start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { addTool, completion, fakeModelAgent } from "../helpers/openai";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";

const parameters = { type: "object", properties: { amount: { type: "number" } }, required: ["amount"] };

describe("tool-call keys", () => {
  it("differ for calls in different answers that the provider gave the same id", async () => {
    const admin = await signIn("admin");
    const payments = await scriptEndpoint([{ status: 200, body: { charged: true } }]);
    const { agent } = await fakeModelAgent(admin.token, [
      completion({ toolCalls: [{ id: "call_1", name: "charge", arguments: { amount: 5 } }] }),
      completion({ toolCalls: [{ id: "call_1", name: "charge", arguments: { amount: 7 } }] }),
      completion({ content: "charged twice" }),
    ]);
    await addTool(admin.token, agent.id, {
      toolName: "charge",
      toolType: "http",
      configuration: { url: payments.url, method: "POST", parameters },
    });
    const id = await start(
      admin.token,
      await workflowWith(admin.token, { steps: [{ id: "pay", type: "agent", agentId: agent.id, prompt: "pay" }] }),
    );
    const done = await waitForExecution(admin.token, id, undefined, 30_000);
    expect(done.status).toBe("completed");
    const sent = await payments.requests();
    expect(sent.map((r) => JSON.parse(r.body).amount)).toEqual([5, 7]);
    const keys = sent.map((r) => r.headers["idempotency-key"]);
    const stepKey = stepOf(done, "pay").idempotencyKey;
    expect(keys).toEqual([`${stepKey}:1.1`, `${stepKey}:2.1`]);
  });

  it("start one child per workflow-tool call, whatever ids the provider gave them", async () => {
    const admin = await signIn("admin");
    const childWorkflow = await workflowWith(admin.token, {
      steps: [{ id: "echo", type: "transform", output: "{{input.amount}}" }],
    });
    const { agent } = await fakeModelAgent(admin.token, [
      completion({ toolCalls: [{ id: "call_1", name: "run_child", arguments: { amount: 5 } }] }),
      completion({ toolCalls: [{ id: "call_1", name: "run_child", arguments: { amount: 7 } }] }),
      completion({ content: "two children" }),
    ]);
    await addTool(admin.token, agent.id, {
      toolName: "run_child",
      toolType: "workflow",
      configuration: { workflowId: childWorkflow, parameters },
    });
    const id = await start(
      admin.token,
      await workflowWith(admin.token, { steps: [{ id: "ask", type: "agent", agentId: agent.id, prompt: "go" }] }),
    );
    expect((await waitForExecution(admin.token, id, undefined, 30_000)).status).toBe("completed");
    const children = await query<{ input: { amount: number } }>(
      "select input from executions where parent_execution_id = $1 order by created_at",
      [id],
    );
    expect(children.map((child) => child.input.amount)).toEqual([5, 7]);
  });
});
