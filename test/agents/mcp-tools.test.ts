/**
 * `mcp` tools against a real MCP server (the official SDK's server, test/fixtures/mcp-server.ts,
 * started with the outside world): listing, allowedTools, secret headers, idempotency keys, and
 * failures that come back to the model instead of crashing the step.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { addTool, completion, fakeModelAgent } from "../helpers/openai";
import type { Recorded } from "../helpers/outside";
import { scriptEndpoint } from "../helpers/outside";
import { signIn, uniqueName } from "../helpers/users";

const mcpUrl = (name: string) => `${env.TEST_OUTSIDE_URL}/mcp/${name}`;
const mcpRequests = async (name: string): Promise<Recorded[]> =>
  (await fetch(`${env.TEST_OUTSIDE_URL}/_requests/${name}`)).json();
const rpcOf = (request: Recorded) => JSON.parse(request.body || "{}");
const toolNamesOffered = (request: Recorded) =>
  JSON.parse(request.body).tools.map((tool: { function: { name: string } }) => tool.function.name);

async function runAsk(token: string, agentId: string, prompt = "Where is order A-17?") {
  const workflowId = await workflowWith(token, {
    steps: [{ id: "ask", type: "agent", agentId, prompt, retry: { maxAttempts: 1 } }],
  });
  return { workflowId, done: await waitForExecution(token, await start(token, workflowId), undefined, 40_000) };
}

describe("mcp tools", () => {
  it("calls a real MCP server's tool and uses its answer; allowedTools hides the rest", async () => {
    const admin = await signIn("admin");
    const server = uniqueName("orders");
    const { endpoint, agent } = await fakeModelAgent(admin.token, [
      completion({ toolCalls: [{ name: "orders__lookup_order", arguments: { orderId: "A-17" } }] }),
      completion({ content: "A-17 shipped on 30 November." }),
    ]);
    const tool = await addTool(admin.token, agent.id, {
      toolName: "orders",
      toolType: "mcp",
      configuration: {
        url: mcpUrl(server),
        headers: { authorization: "{{secrets.ORDERS_TOKEN}}", "x-tenant": "acme-tenant-key" },
        allowedTools: ["lookup_order", "out_of_stock", "hang"],
      },
    });
    // Header values are write-only: only a pure secret reference is shown.
    expect(tool.configuration.headers).toEqual({ authorization: "{{secrets.ORDERS_TOKEN}}", "x-tenant": "***" });
    const secret = await callJson("/api/v1/secrets/ORDERS_TOKEN", {
      method: "PUT",
      token: admin.token,
      body: { value: "Bearer orders-secret-7731" },
    });
    expect([200, 201]).toContain(secret.status);

    const { done } = await runAsk(admin.token, agent.id);
    expect(done.status, JSON.stringify(done.error)).toBe("completed");
    const ask = stepOf(done, "ask");
    expect(ask.output).toMatchObject({
      text: "A-17 shipped on 30 November.",
      toolCalls: [{ id: "call_1", name: "orders__lookup_order", arguments: { orderId: "A-17" } }],
    });

    const [first, second] = await endpoint.requests();
    expect(toolNamesOffered(first)).toEqual(["orders__lookup_order", "orders__out_of_stock", "orders__hang"]);
    const toolMessage = JSON.parse(second.body).messages.find((m: { role: string }) => m.role === "tool");
    expect(toolMessage).toEqual({
      role: "tool",
      tool_call_id: "call_1",
      content: "Order A-17: shipped on 2026-11-30",
    });

    const reached = await mcpRequests(server);
    const call = reached.find((request) => rpcOf(request).method === "tools/call");
    expect(rpcOf(call as Recorded).params).toMatchObject({ name: "lookup_order", arguments: { orderId: "A-17" } });
    expect(call?.headers.authorization).toBe("Bearer orders-secret-7731");
    expect(call?.headers["x-tenant"]).toBe("acme-tenant-key");
    expect(call?.headers["idempotency-key"]).toBe(`${ask.idempotencyKey}:1.1`);
    // The secret never reaches the step's record.
    expect(JSON.stringify(done)).not.toContain("orders-secret-7731");
  });

  it("hands a tool's error and a hung call back to the model as tool errors; the step completes", async () => {
    const admin = await signIn("admin");
    const { endpoint, agent } = await fakeModelAgent(admin.token, [
      completion({
        toolCalls: [
          { id: "call_a", name: "orders__out_of_stock", arguments: {} },
          { id: "call_b", name: "orders__hang", arguments: {} },
        ],
      }),
      completion({ content: "The order service is having trouble." }),
    ]);
    await addTool(admin.token, agent.id, {
      toolName: "orders",
      toolType: "mcp",
      configuration: { url: mcpUrl(uniqueName("orders")), timeoutMs: 1000 },
    });
    const { done } = await runAsk(admin.token, agent.id);
    expect(done.status, JSON.stringify(done.error)).toBe("completed");
    const [, second] = await endpoint.requests();
    const results = JSON.parse(second.body)
      .messages.filter((m: { role: string }) => m.role === "tool")
      .map((m: { tool_call_id: string; content: string }) => [m.tool_call_id, JSON.parse(m.content)]);
    expect(results[0]).toEqual(["call_a", { error: "inventory unavailable" }]);
    expect(results[1][0]).toBe("call_b");
    expect(results[1][1].error).toMatch(/^the MCP tool hang failed: .*timed out/i);
  });

  it("fails the attempt as mcp_unavailable when the server cannot list its tools", async () => {
    const admin = await signIn("admin");
    const broken = await scriptEndpoint([{ status: 503, body: { error: "down" } }]);
    const { endpoint, agent } = await fakeModelAgent(admin.token, [completion({ content: "never asked" })]);
    await addTool(admin.token, agent.id, { toolName: "orders", toolType: "mcp", configuration: { url: broken.url } });
    const { done } = await runAsk(admin.token, agent.id);
    expect(done.status).toBe("failed");
    expect(stepOf(done, "ask").error).toMatchObject({ reason: "mcp_unavailable", retryable: true });
    expect(await endpoint.requests()).toHaveLength(0);
  });

  it("refuses an mcp tool without a url, or whose address is private and not allowed", async () => {
    const admin = await signIn("admin");
    const { agent } = await fakeModelAgent(admin.token, [completion({ content: "never asked" })]);
    const missing = await callJson(`/api/v1/agents/${agent.id}/tools`, {
      token: admin.token,
      body: { toolName: "orders", toolType: "mcp", configuration: {} },
    });
    expect(missing.status).toBe(422);
    expect(missing.body.error.details[0].path).toBe("configuration.url");

    await addTool(admin.token, agent.id, {
      toolName: "metadata",
      toolType: "mcp",
      configuration: { url: "http://169.254.169.254/mcp" },
    });
    const { done } = await runAsk(admin.token, agent.id);
    expect(stepOf(done, "ask").error).toMatchObject({ reason: "address_refused" });
  });
});
