/**
 * Agent attempts resume from their checkpoints: an attempt run again (a redelivery, a lease taken
 * over) neither asks the model again for what it already answered nor repeats a tool call, and
 * tool calls that reach outside carry keys derived from the step's key and the call's id.
 */

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadAgentSnapshots } from "../../src/agents/snapshot";
import type { AgentState } from "../../src/agents/state";
import { startChildExecution } from "../../src/services/child-start";
import { runAgent } from "../../src/steps/agent/run";
import { DefinitionSchema } from "../../src/steps/definition";
import type { ChildStart } from "../../src/steps/kind";
import type { StepTask } from "../../src/steps/task";
import { query, withDb } from "../helpers/db";
import { start, workflowWith } from "../helpers/executions";
import { addTool, completion, fakeModelAgent } from "../helpers/openai";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";

async function taskFor(
  agentId: string,
  checkpoint: AgentState | null,
  workflowId = crypto.randomUUID(),
): Promise<StepTask> {
  const definition = DefinitionSchema.parse({ steps: [{ id: "ask", type: "agent", agentId, prompt: "p" }] });
  const agents = await withDb(({ db }) => loadAgentSnapshots(db, definition));
  return {
    executionId: crypto.randomUUID(),
    workflowId,
    actingUserId: crypto.randomUUID(),
    stepId: "ask",
    type: "agent",
    attempt: 1,
    idempotencyKey: crypto.randomUUID(),
    lease: "lease",
    leaseMs: 30_000,
    claims: 2,
    input: null,
    inputRef: null,
    deadline: Date.now() + 30_000,
    executionTokens: 0,
    executionTokenBudget: null,
    executionCostUsd: 0,
    executionCostBudgetUsd: null,
    streamedChars: 0,
    traceId: "0af7651916cd43dd8448eb211c80319c",
    agent: agents[agentId],
    checkpoint,
    childResults: [],
  };
}

const context = (saved: AgentState[] = []) => ({
  env,
  signal: new AbortController().signal,
  onToken: () => {},
  checkpoint: async (state: AgentState) => {
    saved.push(state);
    return true;
  },
  startChild: (request: ChildStart) => startChildExecution(env, request),
});

const toolCall = { id: "call_7", name: "lookup", arguments: '{"id":"42"}' };
const asked = (extra: AgentState["messages"] = []): AgentState => ({
  messages: [
    { role: "system", content: "You are terse." },
    { role: "user", content: "Find 42" },
    { role: "assistant", content: null, toolCalls: [toolCall] },
    ...extra,
  ],
  iterations: 1,
  usage: { promptTokens: 30, completionTokens: 5 },
  toolCalls: [{ id: "call_7", name: "lookup", arguments: { id: "42" } }],
  model: "gpt-test",
});

describe("agent checkpoints", () => {
  it("resumes after the last tool result without asking the model again or repeating the tool", async () => {
    const admin = await signIn("admin");
    const lookup = await scriptEndpoint([{ status: 200, body: { name: "Widget" } }]);
    const { endpoint, agent } = await fakeModelAgent(admin.token, [
      completion({ content: "It is a Widget.", usage: { prompt: 40, completion: 6 } }),
    ]);
    await addTool(admin.token, agent.id, {
      toolName: "lookup",
      toolType: "http",
      configuration: {
        url: `${lookup.url}/{{id}}`,
        parameters: { type: "object", properties: { id: { type: "string" } } },
      },
    });
    const checkpoint = asked([
      { role: "tool", toolCallId: "call_7", content: '{"status":200,"body":{"name":"Widget"}}' },
    ]);
    const result = await runAgent(
      await taskFor(agent.id, checkpoint),
      { agentId: agent.id, prompt: "Find 42", maxTokens: null },
      context(),
    );
    expect(result).toMatchObject({
      outcome: { ok: true, output: { text: "It is a Widget.", usage: { promptTokens: 70, completionTokens: 11 } } },
    });
    expect(await endpoint.requests()).toHaveLength(1);
    expect(await lookup.requests()).toHaveLength(0);
  });

  it("runs only the tool call still unanswered, with the derived Idempotency-Key, then asks the model once", async () => {
    const admin = await signIn("admin");
    const lookup = await scriptEndpoint([{ status: 200, body: { name: "Widget" } }]);
    const { endpoint, agent } = await fakeModelAgent(admin.token, [completion({ content: "Widget." })]);
    await addTool(admin.token, agent.id, {
      toolName: "lookup",
      toolType: "http",
      configuration: {
        url: `${lookup.url}/{{id}}`,
        parameters: { type: "object", properties: { id: { type: "string" } } },
      },
    });
    const task = await taskFor(agent.id, asked());
    const saved: AgentState[] = [];
    await runAgent(task, { agentId: agent.id, prompt: "Find 42", maxTokens: null }, context(saved));
    const calls = await lookup.requests();
    expect(calls).toHaveLength(1);
    // The key is the call's place in the attempt (first answer, first call), not the provider's id.
    expect(calls[0].headers["idempotency-key"]).toBe(`${task.idempotencyKey}:1.1`);
    expect(await endpoint.requests()).toHaveLength(1);
    expect(saved.map((state) => state.messages.at(-1)?.role)).toEqual(["tool", "assistant"]);
  });

  it("finds the child a workflow tool call started instead of starting a second one", async () => {
    const admin = await signIn("admin");
    const child = await workflowWith(admin.token, { steps: [{ id: "wait", type: "approval" }] });
    const { agent } = await fakeModelAgent(admin.token, [completion({ content: "never asked" })]);
    await addTool(admin.token, agent.id, {
      toolName: "lookup",
      toolType: "workflow",
      configuration: { workflowId: child, parameters: { type: "object", properties: { id: { type: "string" } } } },
    });
    // The parent must exist: children reference it.
    const parent = await start(
      admin.token,
      await workflowWith(admin.token, { steps: [{ id: "hold", type: "approval" }] }),
    );
    // The child starts as the parent's user, who must be allowed to start it.
    const task = { ...(await taskFor(agent.id, asked())), executionId: parent, actingUserId: admin.id };
    const input = { agentId: agent.id, prompt: "Find 42", maxTokens: null };
    const first = await runAgent(task, input, context());
    const second = await runAgent(task, input, context());
    expect(first).toMatchObject({ suspension: { waitingFor: [{ toolCallId: "call_7" }] } });
    const ids = [first, second].map((result) =>
      "suspension" in result && result.suspension.kind === "children"
        ? result.suspension.waitingFor[0].executionId
        : null,
    );
    expect(ids[0]).toBe(ids[1]);
    const rows = await query<{ id: string }>("select id from executions where workflow_id = $1", [child]);
    expect(rows.map((row) => row.id)).toEqual([ids[0]]);
  });
});
