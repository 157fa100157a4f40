/**
 * costBudgetUsd (docs/workflows.md Cost): a model call that could take the execution over its budget waits
 * for an owner (reason `budget`) before the model is asked; raising the budget continues from
 * the checkpoint (no tool runs twice), rejecting fails the step with `budget_exceeded`. Prices:
 * gpt-test $2.50 in / $10 out per million tokens; the fake agent answers with up to 300 tokens.
 */
import { describe, expect, it } from "vitest";
import { start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { addTool, completion, fakeModelAgent } from "../helpers/openai";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";

const budgeted = (agentId: string, costBudgetUsd: number) => ({
  costBudgetUsd,
  steps: [{ id: "ask", type: "agent", agentId, prompt: "What does A-17 cost?", retry: { maxAttempts: 1 } }],
});

const waitingOnBudget = (e: any) => stepOf(e, "ask").waiting?.reason === "budget";

describe("cost budgets", () => {
  it("waits before a call that could go over, and continues from its checkpoint once raised", async () => {
    const user = await signIn("user");
    const admin = await signIn("admin");
    const tool = await scriptEndpoint([{ status: 200, body: { price: 19.5 } }]);
    const { endpoint, agent } = await fakeModelAgent(admin.token, [
      completion({ toolCalls: [{ name: "quote", arguments: {} }], usage: { prompt: 1000, completion: 50 } }),
      completion({ content: "19.50", usage: { prompt: 1100, completion: 10 } }),
    ]);
    await addTool(admin.token, agent.id, { toolName: "quote", toolType: "http", configuration: { url: tool.url } });
    // The first call may cost up to ~$0.00302 and fits; after it ($0.003 spent) the second could reach ~$0.0061.
    const id = await start(user.token, await workflowWith(user.token, budgeted(agent.id, 0.005)));
    // The step's wait and the execution's total reach Postgres in separate rows of the outbox: wait for both.
    const waiting = await waitForExecution(user.token, id, (e) => waitingOnBudget(e) && e.costUsd !== 0, 30_000);

    expect(stepOf(waiting, "ask").waiting).toMatchObject({ reason: "budget", budgetUsd: 0.005, spentUsd: 0.003 });
    expect(stepOf(waiting, "ask").waiting.nextCallUsd).toBeGreaterThan(0.002);
    expect(waiting.costUsd).toBe(0.003);
    expect(await endpoint.requests()).toHaveLength(1);
    expect(await tool.requests()).toHaveLength(1);

    // The owner finds it in the approvals inbox, with what it takes to continue.
    const inbox = await callJson("/api/v1/approvals", { token: user.token });
    expect(inbox.body.items.find((item: { executionId: string }) => item.executionId === id)).toMatchObject({
      stepId: "ask",
      reason: "budget",
      budget: { budgetUsd: 0.005, spentUsd: 0.003 },
    });

    const tooLittle = await callJson(`/api/v1/executions/${id}/steps/ask/approve`, {
      token: user.token,
      body: { raiseBudgetUsd: 0.006 },
    });
    expect(tooLittle.status).toBe(422);
    expect(tooLittle.body.error.details[0]).toMatchObject({ path: "raiseBudgetUsd" });

    const raised = await callJson(`/api/v1/executions/${id}/steps/ask/approve`, {
      token: user.token,
      body: { raiseBudgetUsd: 0.02 },
    });
    expect(raised.status, JSON.stringify(raised.body)).toBe(200);
    const done = await waitForExecution(user.token, id, undefined, 30_000);
    expect(done.status).toBe("completed");
    expect(done.costBudgetUsd).toBe(0.02);
    expect(stepOf(done, "ask").output.text).toBe("19.50");
    // 0.003 + 1100 × 2.5 + 10 × 10 µ$ = 0.00585; the tool ran once, the model was asked twice in all.
    expect(done.costUsd).toBe(0.00585);
    expect(await tool.requests()).toHaveLength(1);
    expect(await endpoint.requests()).toHaveLength(2);
  });

  it("fails the step with budget_exceeded when the owner rejects, without asking the model", async () => {
    const user = await signIn("user");
    const admin = await signIn("admin");
    const { endpoint, agent } = await fakeModelAgent(admin.token, [completion({ content: "never" })]);
    const id = await start(user.token, await workflowWith(user.token, budgeted(agent.id, 0.0001)));
    await waitForExecution(user.token, id, waitingOnBudget, 30_000);
    const stranger = await signIn("user");
    const foreign = await callJson(`/api/v1/executions/${id}/steps/ask/reject`, { token: stranger.token, body: {} });
    expect(foreign.status).toBe(404);

    const rejected = await callJson(`/api/v1/executions/${id}/steps/ask/reject`, {
      token: user.token,
      body: { comment: "too dear" },
    });
    expect(rejected.status).toBe(200);
    const done = await waitForExecution(user.token, id);
    expect(done.status).toBe("failed");
    expect(stepOf(done, "ask").error).toMatchObject({
      reason: "budget_exceeded",
      message: "the next model call could take the execution over its cost budget of $0.0001; rejected: too dear",
    });
    expect(await endpoint.requests()).toHaveLength(0);
  });

  it("can be raised over MCP too (decide_step with raiseBudgetUsd)", async () => {
    const user = await signIn("user");
    const admin = await signIn("admin");
    const { endpoint, agent } = await fakeModelAgent(admin.token, [completion({ content: "done" })]);
    const id = await start(user.token, await workflowWith(user.token, budgeted(agent.id, 0.0001)));
    await waitForExecution(user.token, id, waitingOnBudget, 30_000);
    const rpc = await callJson("/mcp", {
      token: user.token,
      headers: { accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25" },
      body: {
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: {
          name: "decide_step",
          arguments: { executionId: id, stepId: "ask", approved: true, raiseBudgetUsd: 1 },
        },
      },
    });
    expect(rpc.body.result.isError ?? false, JSON.stringify(rpc.body)).toBe(false);
    const done = await waitForExecution(user.token, id, undefined, 30_000);
    expect(done).toMatchObject({ status: "completed", costBudgetUsd: 1 });
    expect(await endpoint.requests()).toHaveLength(1);
  });

  it("refuses to keep a budget on a model without a price", async () => {
    const admin = await signIn("admin");
    const { endpoint, agent } = await fakeModelAgent(
      admin.token,
      [completion({ content: "x" })],
      {},
      {
        modelName: "gpt-unpriced",
      },
    );
    const done = await waitForExecution(
      admin.token,
      await start(admin.token, await workflowWith(admin.token, budgeted(agent.id, 5))),
      undefined,
      30_000,
    );
    expect(done.status).toBe("failed");
    expect(stepOf(done, "ask").error.reason).toBe("model_unpriced");
    expect(await endpoint.requests()).toHaveLength(0);
  });
});
