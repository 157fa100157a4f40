/**
 * The cost ledger (docs/workflows.md Cost): each model call priced by MODEL_PRICES (gpt-test at $2.50 in /
 * $10 out per million tokens in the tests' settings), priced tool calls added, per step and per
 * execution, into Postgres and the ipa_agent_cost_usd_total metric; an unpriced model costs null.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { call } from "../helpers/http";
import { addTool, completion, fakeModelAgent } from "../helpers/openai";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";

const timing = { startedAt: expect.any(Number), durationMs: expect.any(Number) };

async function runOnce(token: string, agentId: string) {
  const workflowId = await workflowWith(token, {
    steps: [{ id: "ask", type: "agent", agentId, prompt: "Price check for A-17", retry: { maxAttempts: 1 } }],
  });
  return waitForExecution(token, await start(token, workflowId), undefined, 30_000);
}

describe("cost ledger", () => {
  it("prices each model call and each priced tool call, per step and per execution", async () => {
    const admin = await signIn("admin");
    const api = await scriptEndpoint([{ status: 200, body: { price: 19.5 } }]);
    const { agent } = await fakeModelAgent(admin.token, [
      completion({ toolCalls: [{ name: "quote", arguments: {} }], usage: { prompt: 1000, completion: 50 } }),
      completion({ content: "It costs 19.50.", usage: { prompt: 1200, completion: 200 } }),
    ]);
    await addTool(admin.token, agent.id, {
      toolName: "quote",
      toolType: "http",
      configuration: { url: api.url, method: "GET", costPerCallUsd: 0.01 },
    });
    const done = await runOnce(admin.token, agent.id);
    expect(done.status).toBe("completed");

    const ask = stepOf(done, "ask");
    // 1000 × 2.5 + 50 × 10 = 3000 µ$; 1200 × 2.5 + 200 × 10 = 5000 µ$; the tool 10,000 µ$.
    expect(ask.output.modelCalls).toEqual([
      { model: "gpt-test", promptTokens: 1000, completionTokens: 50, costUsd: 0.003, ...timing },
      { model: "gpt-test", promptTokens: 1200, completionTokens: 200, costUsd: 0.005, ...timing },
    ]);
    expect(ask.output.toolCalls).toEqual([
      { id: "call_1", key: "1.1", name: "quote", arguments: {}, ...timing, costUsd: 0.01 },
    ]);
    expect(ask.output.usage).toEqual({ promptTokens: 2200, completionTokens: 250, costUsd: 0.018 });
    expect(ask.costUsd).toBe(0.018);
    expect(done.costUsd).toBe(0.018);

    const metrics = await (await call("/metrics", { token: env.METRICS_TOKEN })).text();
    expect(metrics).toContain(`ipa_agent_cost_usd_total{agent_id="${agent.id}",model="gpt-test"} 0.018`);
  });

  it("says null, not zero, when the model has no price", async () => {
    const admin = await signIn("admin");
    const { agent } = await fakeModelAgent(
      admin.token,
      [completion({ content: "ok", model: "gpt-unpriced" })],
      {},
      {
        modelName: "gpt-unpriced",
      },
    );
    const done = await runOnce(admin.token, agent.id);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "ask").output.modelCalls[0]).toMatchObject({ model: "gpt-unpriced", costUsd: null });
    expect(stepOf(done, "ask").costUsd).toBeNull();
    expect(done.costUsd).toBeNull();
  });
});
