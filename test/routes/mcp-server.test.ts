/**
 * /mcp as an agent meets it: the official MCP SDK's client over Streamable HTTP, signed in as a
 * viewer, a user and an admin.
 */

import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { describe, expect, it } from "vitest";
import { start, stepOf, waitForExecution } from "../helpers/executions";
import { createVersion } from "../helpers/fixtures";
import { callJson } from "../helpers/http";
import { connectMcpAs as connectAs } from "../helpers/mcp";
import { signIn, uniqueName } from "../helpers/users";

async function activeWorkflow(token: string, name: string, definition: unknown, description?: string) {
  const res = await callJson("/api/v1/workflows", { token, body: { name, description } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  await createVersion(token, res.body.id, definition);
  const activated = await callJson(`/api/v1/workflows/${res.body.id}`, {
    method: "PATCH",
    token,
    body: { status: "active" },
  });
  expect(activated.status, JSON.stringify(activated.body)).toBe(200);
  return res.body.id as string;
}

const greeter = {
  inputSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
  steps: [{ id: "greet", type: "transform", output: { greeting: "Hello, {{input.name}}!" } }],
};

const toolNames = async (client: Client) => (await client.listTools()).tools.map((tool) => tool.name);
const textOf = (result: Awaited<ReturnType<Client["callTool"]>>) =>
  (result.content as Array<{ type: string; text: string }>)[0].text;

describe("MCP server (/mcp)", () => {
  it("refuses a request without a token or with a bad one (401)", async () => {
    const initialize = {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "x", version: "1" } },
    };
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: "Bearer not-a-token" },
      { authorization: "Bearer ipa_forged" },
    ];
    for (const headers of attempts) {
      const res = await callJson("/mcp", {
        body: initialize,
        headers: { accept: "application/json, text/event-stream", ...headers },
      });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe("UNAUTHORIZED");
    }
    await expect(connectAs("not-a-token")).rejects.toThrow();
  });

  it("offers each caller the workflows it may start, with their input schemas", async () => {
    const [viewer, user, other, admin] = await Promise.all([
      signIn("viewer"),
      signIn("user"),
      signIn("user"),
      signIn("admin"),
    ]);
    const tag = uniqueName("mcp").replace("-", "_");
    const greetPeople = await activeWorkflow(user.token, `Greet People ${tag}`, greeter, "Greets someone by name");
    await activeWorkflow(other.token, `Other Greeter ${tag}`, greeter);
    // A draft is not offered, nor is a workflow without a version.
    await callJson("/api/v1/workflows", { token: user.token, body: { name: `Draft ${tag}` } });

    const asViewer = await connectAs(viewer.token);
    expect(await toolNames(asViewer)).toEqual(["get_execution"]);

    const asUser = await connectAs(user.token);
    const userTools = (await asUser.listTools()).tools;
    expect(userTools.map((tool) => tool.name)).toEqual([`run_greet_people_${tag}`, "get_execution", "decide_step"]);
    expect(userTools[0]).toMatchObject({ description: "Greets someone by name", inputSchema: greeter.inputSchema });

    // Admins are offered their own workflows and those an admin marked for MCP, not every one.
    await callJson(`/api/v1/workflows/${greetPeople}`, { method: "PATCH", token: admin.token, body: { mcp: true } });
    const adminNames = await toolNames(await connectAs(admin.token));
    expect(adminNames).toContain(`run_greet_people_${tag}`);
    expect(adminNames).not.toContain(`run_other_greeter_${tag}`);
  });

  it("runs a workflow for a personal API token and returns its output; bad input is a tool error", async () => {
    const user = await signIn("user");
    const tag = uniqueName("mcp").replace("-", "_");
    const workflowId = await activeWorkflow(user.token, `Greet ${tag}`, greeter);
    const minted = await callJson("/api/v1/auth/api-tokens", { token: user.token, body: { name: "desktop agent" } });
    expect(minted.status).toBe(201);
    const client = await connectAs(minted.body.token);

    const result = await client.callTool({ name: `run_greet_${tag}`, arguments: { name: "Ada" } });
    expect(result.isError).toBeFalsy();
    expect(JSON.parse(textOf(result))).toEqual({ greet: { greeting: "Hello, Ada!" } });

    const refused = await client.callTool({ name: `run_greet_${tag}`, arguments: { name: 42 } });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain("input.name");

    const runs = await callJson(`/api/v1/executions?workflowId=${workflowId}`, { token: user.token });
    expect(runs.body.items).toHaveLength(1);
    expect(runs.body.items[0].triggerType).toBe("mcp");
  });

  it("labels the start from the call's _meta (tags, metadata, priority), and refuses bad labels", async () => {
    const user = await signIn("user");
    const tag = uniqueName("mcp").replace("-", "_");
    const workflowId = await activeWorkflow(user.token, `Label ${tag}`, greeter);
    const client = await connectAs(user.token);
    const result = await client.callTool({
      name: `run_label_${tag}`,
      arguments: { name: "Lin" },
      _meta: { "ipa/tags": ["from-mcp"], "ipa/metadata": { customer: "acme" }, "ipa/priority": 5 },
    });
    expect(result.isError).toBeFalsy();
    const runs = await callJson(`/api/v1/executions?workflowId=${workflowId}&tag=from-mcp&meta.customer=acme`, {
      token: user.token,
    });
    expect(runs.body.items).toHaveLength(1);
    expect(runs.body.items[0]).toMatchObject({ tags: ["from-mcp"], metadata: { customer: "acme" }, priority: 5 });

    const refused = await client.callTool({
      name: `run_label_${tag}`,
      arguments: { name: "Lin" },
      _meta: { "ipa/tags": ["x".repeat(65)] },
    });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain("_meta");
  });

  it("starts once per caller and JSON-RPC request id, however often the request is sent", async () => {
    const user = await signIn("user");
    const tag = uniqueName("mcp").replace("-", "_");
    const workflowId = await activeWorkflow(user.token, `Once ${tag}`, greeter);
    const client = await connectAs(user.token);
    await client.close();
    const request = {
      jsonrpc: "2.0",
      id: 77,
      method: "tools/call",
      params: { name: `run_once_${tag}`, arguments: { name: "Grace" } },
    };
    const headers = { accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25" };
    for (let i = 0; i < 2; i++) {
      const res = await callJson("/mcp", { token: user.token, body: request, headers });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.result.content[0].text).toBe('{"greet":{"greeting":"Hello, Grace!"}}');
    }
    const runs = await callJson(`/api/v1/executions?workflowId=${workflowId}`, { token: user.token });
    expect(runs.body.items).toHaveLength(1);
  });

  it("reads an execution and decides its approval under the caller's permissions", async () => {
    const [user, stranger] = await Promise.all([signIn("user"), signIn("user")]);
    const tag = uniqueName("mcp").replace("-", "_");
    const workflowId = await activeWorkflow(user.token, `Review ${tag}`, {
      steps: [
        { id: "review", type: "approval", message: "Ship it?" },
        { id: "after", type: "transform", output: "shipped", dependsOn: ["review"] },
      ],
    });
    const id = await start(user.token, workflowId);
    await waitForExecution(user.token, id, (e) => stepOf(e, "review").status === "waiting");
    const client = await connectAs(user.token);

    const seen = JSON.parse(textOf(await client.callTool({ name: "get_execution", arguments: { id } })));
    expect(seen).toMatchObject({ id, status: "running" });
    expect(stepOf(seen, "review")).toMatchObject({ status: "waiting", waiting: { reason: "approval" } });

    const hidden = await (await connectAs(stranger.token)).callTool({ name: "get_execution", arguments: { id } });
    expect(hidden).toMatchObject({ isError: true, content: [{ type: "text", text: "Execution not found" }] });
    const badArgs = await client.callTool({ name: "decide_step", arguments: { executionId: id } });
    expect(badArgs.isError).toBe(true);
    expect(textOf(badArgs)).toContain("arguments.stepId");

    const decided = await client.callTool({
      name: "decide_step",
      arguments: { executionId: id, stepId: "review", approved: true, comment: "via MCP" },
    });
    expect(decided.isError).toBeFalsy();
    expect(JSON.parse(textOf(decided))).toMatchObject({ id, stepId: "review" });
    const done = await waitForExecution(user.token, id);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "after").output).toBe("shipped");
  });
});
