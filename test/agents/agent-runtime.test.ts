import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { query } from "../helpers/db";
import { start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { call, callJson } from "../helpers/http";
import { addTool, completion, fakeModelAgent, streamed } from "../helpers/openai";
import { scriptEndpoint } from "../helpers/outside";
import { connect, ticketFor } from "../helpers/stream";
import { signIn } from "../helpers/users";

const agentFlow = (agentId: string) => ({
  steps: [{ id: "ask", type: "agent", agentId, prompt: "Question: {{input.q}}", retry: { maxAttempts: 1 } }],
});

async function runAgentWorkflow(token: string, agentId: string, input = { q: "what?" }) {
  const id = await start(token, await workflowWith(token, agentFlow(agentId)), input);
  return { id, done: await waitForExecution(token, id, undefined, 30_000) };
}

describe("agent runtime", () => {
  it("gets a plain answer over HTTP, sending the decrypted key, prompt, model and limits", async () => {
    const admin = await signIn("admin");
    const { endpoint, agent } = await fakeModelAgent(admin.token, [
      completion({ content: "Forty-two.", usage: { prompt: 31, completion: 4 } }),
    ]);
    const { done } = await runAgentWorkflow(admin.token, agent.id, { q: "meaning of life" });
    expect(done.status).toBe("completed");
    expect(stepOf(done, "ask")).toMatchObject({
      output: {
        text: "Forty-two.",
        toolCalls: [],
        model: "gpt-test",
        usage: { promptTokens: 31, completionTokens: 4 },
      },
      promptTokens: 31,
      completionTokens: 4,
    });
    const [request] = await endpoint.requests();
    expect(request.path).toBe(`/s/${endpoint.name}/chat/completions`);
    expect(request.headers.authorization).toBe("Bearer sk-fake-key");
    const body = JSON.parse(request.body);
    expect(body).toMatchObject({ model: "gpt-test", temperature: 0.1, max_tokens: 300 });
    expect(body.messages).toEqual([
      { role: "system", content: "You are terse." },
      { role: "user", content: "Question: meaning of life" },
    ]);
    expect(body.stream).toBeUndefined();
  });

  it("streams tokens to a WebSocket viewer before the model has finished its stream", async () => {
    const admin = await signIn("admin");
    const { endpoint, agent } = await fakeModelAgent(
      admin.token,
      [streamed(["Hel", "lo", " world"], { holdAfter: 1 })],
      { stream: true },
    );
    const workflowId = await workflowWith(admin.token, {
      steps: [
        { id: "gate", type: "approval" },
        { id: "ask", type: "agent", agentId: agent.id, prompt: "hi", dependsOn: ["gate"] },
      ],
    });
    const id = await start(admin.token, workflowId);
    await waitForExecution(admin.token, id, (e) => stepOf(e, "gate").status === "waiting");
    const viewer = await connect(id, await ticketFor(admin.token, id));
    await callJson(`/api/v1/executions/${id}/steps/gate/approve`, { method: "POST", token: admin.token });

    const first = await viewer.waitFor((m) => m.type === "token");
    expect(first).toEqual({ type: "token", stepId: "ask", attempt: 1, offset: 0, text: "Hel" });
    // The server is still holding the rest of its stream: the step has not completed.
    expect(viewer.messages.some((m) => m.event === "step.completed" && m.stepId === "ask")).toBe(false);
    await endpoint.release();
    const completed = await viewer.waitFor((m) => m.event === "step.completed" && m.stepId === "ask");
    expect(completed.data.output.text).toBe("Hello world");
    expect(
      viewer.messages
        .filter((m) => m.type === "token")
        .map((m) => m.text)
        .join(""),
    ).toBe("Hello world");
    const body = JSON.parse((await endpoint.requests())[0].body);
    expect(body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    const done = await waitForExecution(admin.token, id);
    expect(stepOf(done, "ask").output.usage).toEqual({ promptTokens: 20, completionTokens: 9, costUsd: 0.00014 });
    viewer.close();
  });

  it("runs two rounds of tool calls, feeding results back to the model", async () => {
    const admin = await signIn("admin");
    const lookup = await scriptEndpoint([{ status: 200, body: { id: "42", name: "Widget" } }]);
    const { endpoint, agent } = await fakeModelAgent(admin.token, [
      completion({ toolCalls: [{ name: "calc", arguments: { expression: "2*(3+4)" } }] }),
      completion({ toolCalls: [{ name: "lookup_item", arguments: { id: "42", verbose: true } }] }),
      completion({ content: "Item 42 is a Widget; 2*(3+4)=14." }),
    ]);
    await addTool(admin.token, agent.id, {
      toolName: "calc",
      toolType: "builtin",
      configuration: { builtin: "arithmetic" },
    });
    await addTool(admin.token, agent.id, {
      toolName: "lookup_item",
      toolType: "http",
      configuration: {
        url: `${lookup.url}/items/{{id}}`,
        method: "GET",
        parameters: {
          type: "object",
          properties: { id: { type: "string" }, verbose: { type: "boolean" } },
          required: ["id"],
        },
      },
    });
    await addTool(admin.token, agent.id, {
      toolName: "disabled_one",
      toolType: "builtin",
      configuration: { builtin: "current_time" },
      isEnabled: false,
    });

    const { done } = await runAgentWorkflow(admin.token, agent.id);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "ask").output.text).toBe("Item 42 is a Widget; 2*(3+4)=14.");
    expect(stepOf(done, "ask").output.toolCalls.map((c: any) => c.name)).toEqual(["calc", "lookup_item"]);

    const requests = (await endpoint.requests()).map((r) => JSON.parse(r.body));
    expect(requests).toHaveLength(3);
    expect(requests[0].tools.map((t: any) => t.function.name).sort()).toEqual(["calc", "lookup_item"]);
    const toolMessages = requests[2].messages.filter((m: any) => m.role === "tool");
    expect(toolMessages.map((m: any) => JSON.parse(m.content))).toEqual([
      { result: 14 },
      { status: 200, body: { id: "42", name: "Widget" } },
    ]);
    expect(requests[2].messages.filter((m: any) => m.role === "assistant")).toHaveLength(2);
    const [request] = await lookup.requests();
    expect(request.path).toBe(`/s/${lookup.name}/items/42?verbose=true`);
  });

  it("fails the step on invalid tool arguments before anything runs", async () => {
    const admin = await signIn("admin");
    const lookup = await scriptEndpoint([{ status: 200 }]);
    const { agent } = await fakeModelAgent(admin.token, [
      completion({ toolCalls: [{ name: "lookup_item", arguments: { id: 5 } }] }),
    ]);
    await addTool(admin.token, agent.id, {
      toolName: "lookup_item",
      toolType: "http",
      configuration: {
        url: `${lookup.url}/{{id}}`,
        parameters: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
      },
    });
    const { done } = await runAgentWorkflow(admin.token, agent.id);
    expect(done.status).toBe("failed");
    expect(stepOf(done, "ask").error).toMatchObject({
      reason: "invalid_tool_arguments",
      message: expect.stringMatching(/\/id/),
    });
    expect(await lookup.requests()).toHaveLength(0);
  });

  it("fails clearly on malformed model output", async () => {
    const admin = await signIn("admin");
    const { agent } = await fakeModelAgent(admin.token, [
      completion({ toolCalls: [{ name: "calc", arguments: "{not json" }] }),
    ]);
    await addTool(admin.token, agent.id, {
      toolName: "calc",
      toolType: "builtin",
      configuration: { builtin: "arithmetic" },
    });
    const { done } = await runAgentWorkflow(admin.token, agent.id);
    expect(stepOf(done, "ask").error).toMatchObject({ reason: "malformed_tool_arguments" });
  });

  it("honours Retry-After on 429 and then succeeds", async () => {
    const admin = await signIn("admin");
    const { endpoint, agent } = await fakeModelAgent(admin.token, [
      { status: 429, headers: { "retry-after": "1" }, body: { error: { message: "slow down" } } },
      completion({ content: "ok" }),
    ]);
    const { done } = await runAgentWorkflow(admin.token, agent.id);
    expect(stepOf(done, "ask").output.text).toBe("ok");
    const [first, second] = await endpoint.requests();
    expect(second.at - first.at).toBeGreaterThanOrEqual(1000);
  });

  it("falls back to the next model when the first keeps failing", async () => {
    const admin = await signIn("admin");
    const { endpoint, agent } = await fakeModelAgent(
      admin.token,
      [{ status: 503 }, { status: 503 }, completion({ content: "from fallback", model: "gpt-small" })],
      { fallbackModels: ["gpt-small"] },
    );
    const { done } = await runAgentWorkflow(admin.token, agent.id);
    expect(stepOf(done, "ask").output).toMatchObject({ text: "from fallback", model: "gpt-small" });
    expect((await endpoint.requests()).map((r) => JSON.parse(r.body).model)).toEqual([
      "gpt-test",
      "gpt-test",
      "gpt-small",
    ]);
  });

  it("stops when the agent's token budget would be exceeded", async () => {
    const admin = await signIn("admin");
    const { endpoint, agent } = await fakeModelAgent(
      admin.token,
      [
        completion({
          toolCalls: [{ name: "calc", arguments: { expression: "1+1" } }],
          usage: { prompt: 120, completion: 30 },
        }),
        completion({ content: "never" }),
      ],
      { tokenBudget: 100 },
    );
    await addTool(admin.token, agent.id, {
      toolName: "calc",
      toolType: "builtin",
      configuration: { builtin: "arithmetic" },
    });
    const { done } = await runAgentWorkflow(admin.token, agent.id);
    expect(done.status).toBe("failed");
    expect(stepOf(done, "ask")).toMatchObject({
      error: { reason: "token_budget_exceeded" },
      promptTokens: 120,
      completionTokens: 30,
    });
    expect(await endpoint.requests()).toHaveLength(1);
  });

  it("stops at the execution's token budget too", async () => {
    const admin = await signIn("admin");
    const { agent } = await fakeModelAgent(admin.token, [
      completion({ content: "a", usage: { prompt: 60, completion: 40 } }),
    ]);
    const workflowId = await workflowWith(admin.token, {
      tokenBudget: 100,
      steps: [
        { id: "first", type: "agent", agentId: agent.id, prompt: "one" },
        {
          id: "second",
          type: "agent",
          agentId: agent.id,
          prompt: "two",
          dependsOn: ["first"],
          retry: { maxAttempts: 1 },
        },
      ],
    });
    const done = await waitForExecution(admin.token, await start(admin.token, workflowId));
    expect(stepOf(done, "first").status).toBe("completed");
    expect(stepOf(done, "second").error).toMatchObject({ reason: "token_budget_exceeded" });
  });

  it("times out a provider call and reports provider_timeout", async () => {
    const admin = await signIn("admin");
    const { endpoint, agent } = await fakeModelAgent(
      admin.token,
      [{ ...completion({ content: "late" }), delayMs: 2500 }],
      {
        timeoutMs: 1000,
      },
    );
    const { done } = await runAgentWorkflow(admin.token, agent.id);
    expect(done.status).toBe("failed");
    expect(stepOf(done, "ask").error).toMatchObject({ reason: "provider_timeout" });
    expect(await endpoint.requests()).toHaveLength(2);
  });

  it("calls Azure OpenAI with the deployment URL shape and the api-key header", async () => {
    const admin = await signIn("admin");
    const { endpoint, agent } = await fakeModelAgent(admin.token, [completion({ content: "azure says hi" })], {
      provider: "azure-openai",
      deployment: "gpt4o-prod",
      apiVersion: "2024-10-21",
    });
    const { done } = await runAgentWorkflow(admin.token, agent.id);
    expect(stepOf(done, "ask").output.text).toBe("azure says hi");
    const [request] = await endpoint.requests();
    expect(request.path).toBe(
      `/s/${endpoint.name}/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21`,
    );
    expect(request.headers["api-key"]).toBe("sk-fake-key");
    expect(request.headers.authorization).toBeUndefined();
  });

  it("starts a child workflow from a workflow tool and resumes when it reports back", async () => {
    const admin = await signIn("admin");
    const childWorkflowId = await workflowWith(admin.token, {
      steps: [{ id: "double", type: "transform", output: { doubled: "{{input.x}}{{input.x}}" } }],
    });
    const { endpoint, agent } = await fakeModelAgent(admin.token, [
      completion({ toolCalls: [{ name: "run_child", arguments: { x: 5 } }] }),
      completion({ content: "The child said 55." }),
    ]);
    await addTool(admin.token, agent.id, {
      toolName: "run_child",
      toolType: "workflow",
      configuration: {
        workflowId: childWorkflowId,
        parameters: { type: "object", properties: { x: { type: "number" } }, required: ["x"] },
      },
    });
    const { id, done } = await runAgentWorkflow(admin.token, agent.id);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "ask").output.text).toBe("The child said 55.");

    const [child] = await query<{ id: string; trigger_type: string; parent_step_id: string; status: string }>(
      "select id, trigger_type, parent_step_id, status from executions where parent_execution_id = $1",
      [id],
    );
    expect(child).toMatchObject({ trigger_type: "tool", parent_step_id: "ask", status: "completed" });
    const second = JSON.parse((await endpoint.requests())[1].body);
    const toolMessage = second.messages.find((m: any) => m.role === "tool");
    expect(JSON.parse(toolMessage.content)).toMatchObject({
      executionId: child.id,
      status: "completed",
      output: { double: { doubled: "55" } },
    });
    const waits = await query<{ data: any }>(
      "select data from execution_logs where execution_id = $1 and event = 'step.waiting'",
      [id],
    );
    expect(waits.map((w) => w.data.reason)).toEqual(["children"]);
  });

  it("refuses a workflow tool call to a workflow its execution's user may not start, telling the model", async () => {
    const admin = await signIn("admin");
    const stranger = await signIn("user");
    // Another user's workflow: invisible to the caller, so starting it is not theirs to do.
    const privateWorkflowId = await workflowWith(stranger.token, {
      steps: [{ id: "t", type: "transform", output: 1 }],
    });
    const { endpoint, agent } = await fakeModelAgent(admin.token, [
      completion({ toolCalls: [{ name: "run_private", arguments: {} }] }),
      completion({ content: "I could not run it." }),
    ]);
    await addTool(admin.token, agent.id, {
      toolName: "run_private",
      toolType: "workflow",
      configuration: { workflowId: privateWorkflowId, parameters: { type: "object", properties: {} } },
    });
    const user = await signIn("user");
    const { id, done } = await runAgentWorkflow(user.token, agent.id);
    expect(done.status).toBe("completed");
    expect(await query("select id from executions where parent_execution_id = $1", [id])).toEqual([]);
    expect(await query("select id from executions where workflow_id = $1", [privateWorkflowId])).toEqual([]);
    const second = JSON.parse((await endpoint.requests())[1].body);
    const toolMessage = second.messages.find((m: any) => m.role === "tool");
    expect(toolMessage.content).toMatch(/forbidden/);
  });

  it("completes on model answers over 2 MB, each asked once, its checkpoint in R2 (a row holds 2 MB)", async () => {
    const admin = await signIn("admin");
    const big = "y".repeat(3 * 1024 * 1024);
    const lookup = await scriptEndpoint([{ status: 200, sse: ["found", "end"], holdAfter: 1 }]);
    const { endpoint, agent } = await fakeModelAgent(admin.token, [
      completion({ content: big, toolCalls: [{ name: "lookup", arguments: {} }] }),
      completion({ content: big }),
    ]);
    await addTool(admin.token, agent.id, { toolName: "lookup", toolType: "http", configuration: { url: lookup.url } });
    const id = await start(admin.token, await workflowWith(admin.token, agentFlow(agent.id)), { q: "what?" });
    // While the tool call is held, the checkpoint of the 3 MB answer is a reference, not the answer.
    await expect.poll(async () => (await lookup.requests()).length, { timeout: 20_000 }).toBe(1);
    const stored = await runInDurableObject(
      env.EXECUTIONS.get(env.EXECUTIONS.idFromName(id)),
      (_instance, state) => state.storage.sql.exec<{ data: string }>("select data from checkpoints").one().data,
    );
    expect(stored.length).toBeLessThan(4096);
    expect(JSON.parse(stored)).toMatchObject({ $ref: expect.stringContaining(`outputs/${id}/checkpoints/ask/1/`) });
    await lookup.release();
    const done = await waitForExecution(admin.token, id, undefined, 30_000);
    expect(stepOf(done, "ask")).toMatchObject({ status: "completed", attempt: 1 });
    expect(await endpoint.requests()).toHaveLength(2);
    const output = await callJson(`/api/v1/executions/${id}/steps/ask/output`, { token: admin.token });
    expect(output.status, JSON.stringify(output.body).slice(0, 300)).toBe(200);
    expect(output.body.output.text).toHaveLength(big.length);
  });

  it("fails on a model answer over 4 MB, streamed or not, without asking again", async () => {
    const admin = await signIn("admin");
    const huge = "x".repeat(4.5 * 1024 * 1024);
    const whole = await fakeModelAgent(admin.token, [completion({ content: huge })]);
    const chunked = await fakeModelAgent(
      admin.token,
      [streamed(Array.from({ length: 5 }, () => "y".repeat(1024 * 1024)))],
      {
        stream: true,
      },
    );
    for (const { endpoint, agent } of [whole, chunked]) {
      const { done } = await runAgentWorkflow(admin.token, agent.id);
      expect(stepOf(done, "ask")).toMatchObject({
        status: "failed",
        attempt: 1,
        error: { reason: "answer_too_large", message: "the answer is larger than 4194304 bytes" },
      });
      expect(await endpoint.requests()).toHaveLength(1);
    }
  });

  it("caps maxTokens at 128,000 for agents and agent steps (422 above)", async () => {
    const admin = await signIn("admin");
    const agent = await callJson("/api/v1/agents", {
      token: admin.token,
      body: { name: "greedy", type: "custom", configuration: { provider: "builtin" }, maxTokens: 128_001 },
    });
    expect(agent.status).toBe(422);
    expect(agent.body.error.details[0].path).toBe("maxTokens");
    const { agent: fine } = await fakeModelAgent(admin.token, [completion({ content: "ok" })]);
    const workflow = await callJson("/api/v1/workflows", { token: admin.token, body: { name: "greedy flow" } });
    const version = await callJson(`/api/v1/workflows/${workflow.body.id}/versions`, {
      token: admin.token,
      body: {
        definition: { steps: [{ id: "ask", type: "agent", agentId: fine.id, prompt: "p", maxTokens: 10_000_000 }] },
      },
    });
    expect(version.status).toBe(422);
    expect(version.body.error.details[0].path).toBe("definition.steps.0.maxTokens");
  });

  it("feeds ipa_agent_token_usage per agent", async () => {
    const admin = await signIn("admin");
    const { agent } = await fakeModelAgent(admin.token, [
      completion({ content: "x", usage: { prompt: 300, completion: 100 } }),
    ]);
    await runAgentWorkflow(admin.token, agent.id);
    const text = await (await call("/metrics", { token: admin.token })).text();
    expect(text).toContain(`ipa_agent_token_usage_bucket{agent_id="${agent.id}",le="500"} 1`);
    expect(text).toContain(`ipa_agent_token_usage_bucket{agent_id="${agent.id}",le="100"} 0`);
    expect(text).toContain(`ipa_agent_token_usage_sum{agent_id="${agent.id}"} 400`);
  });
});
