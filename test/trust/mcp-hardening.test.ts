/**
 * The MCP server and the MCP client tools, hardened: JSON-RPC batches are refused; `tools/list`
 * offers the caller's own workflows plus those an admin marked, at most 200, with bounded
 * descriptions and schemas; the platform's own failures reach the client as the generic message;
 * a remote server's endless pages and oversized answers cannot hold an agent's attempt.
 */
import { env } from "cloudflare:workers";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { describe, expect, it } from "vitest";
import { permissionsFor } from "../../src/auth/permissions";
import type { Database } from "../../src/db/client";
import { mcpServer } from "../../src/mcp/server";
import { query } from "../helpers/db";
import { stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { createVersion, createWorkflow } from "../helpers/fixtures";
import { callJson } from "../helpers/http";
import { connectMcpAs } from "../helpers/mcp";
import { addTool, completion, fakeModelAgent } from "../helpers/openai";
import type { Recorded } from "../helpers/outside";
import { signIn, uniqueName } from "../helpers/users";

const greeter = { steps: [{ id: "greet", type: "transform", output: "hi" }] };

async function activeWorkflow(token: string, body: Record<string, unknown>, definition: unknown = greeter) {
  const wf = await createWorkflow(token, body);
  await createVersion(token, wf.id, definition);
  const res = await callJson(`/api/v1/workflows/${wf.id}`, { method: "PATCH", token, body: { status: "active" } });
  expect(res.status).toBe(200);
  return wf as { id: string; name: string };
}

const listed = async (token: string) => {
  const client = await connectMcpAs(token);
  const tools = (await client.listTools()).tools;
  await client.close();
  return tools;
};

describe("the MCP server", () => {
  it("refuses a JSON-RPC batch with 400, running none of it", async () => {
    const user = await signIn("user");
    const batch = [
      { jsonrpc: "2.0", id: 1, method: "tools/list" },
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
    ];
    const res = await callJson("/mcp", {
      token: user.token,
      body: batch,
      headers: { accept: "application/json, text/event-stream" },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("batches") });
  });

  it("offers the caller's own workflows, and to admins also the ones an admin marked", async () => {
    const [admin, user, other] = await Promise.all([signIn("admin"), signIn("user"), signIn("user")]);
    const mine = await activeWorkflow(user.token, { name: uniqueName("Mine") });
    const others = await activeWorkflow(other.token, { name: uniqueName("Others") });
    const slug = (name: string) => `run_${name.toLowerCase().replace(/[^a-z0-9]+/g, "_")}`;

    expect((await listed(user.token)).map((t) => t.name)).toContain(slug(mine.name));
    const adminSees = (await listed(admin.token)).map((t) => t.name);
    expect(adminSees).not.toContain(slug(others.name));
    expect(adminSees).not.toContain(slug(mine.name));

    const refused = await callJson(`/api/v1/workflows/${others.id}`, {
      method: "PATCH",
      token: other.token,
      body: { mcp: true },
    });
    expect(refused.status).toBe(403);
    const marked = await callJson(`/api/v1/workflows/${others.id}`, {
      method: "PATCH",
      token: admin.token,
      body: { mcp: true },
    });
    expect(marked.body).toMatchObject({ mcp: true });
    expect((await listed(admin.token)).map((t) => t.name)).toContain(slug(others.name));
    // A user still starts only their own.
    expect((await listed(user.token)).map((t) => t.name)).not.toContain(slug(others.name));
  });

  it("offers at most 200 tools, descriptions cut at 1,024 characters and large schemas as plain objects", async () => {
    const admin = await signIn("admin");
    const big = {
      inputSchema: {
        type: "object",
        properties: Object.fromEntries(
          Array.from({ length: 400 }, (_, i) => [`field_${i}`, { type: "string", description: "x".repeat(40) }]),
        ),
      },
      steps: greeter.steps,
    };
    const described = await activeWorkflow(
      admin.token,
      { name: uniqueName("Wordy"), description: "w".repeat(3000) },
      big,
    );
    const tools = await listed(admin.token);
    const wordy = tools.find((tool) => tool.name.includes(described.name.toLowerCase().replace(/-/g, "_")));
    expect(wordy?.description).toHaveLength(1024);
    expect(wordy?.inputSchema).toEqual({ type: "object" });

    // 205 more active workflows of the admin's, written straight into Postgres.
    const batch = uniqueName("bulk");
    await query(
      `with made as (
         insert into workflows (owner_id, name, status)
         select $1, $2 || ' ' || g, 'active' from generate_series(1, 205) g returning id)
       insert into workflow_versions (workflow_id, version_number, definition) select id, 1, $3::jsonb from made`,
      [admin.id, batch, JSON.stringify(greeter)],
    );
    await query(
      `update workflows w set current_version_id = v.id from workflow_versions v
       where v.workflow_id = w.id and w.name like $1 || ' %'`,
      [batch],
    );
    expect((await listed(admin.token)).filter((tool) => tool.name.startsWith("run_"))).toHaveLength(200);
  });

  it("answers the platform's own failures with the generic message, never SQL", async () => {
    const admin = await signIn("admin");
    const failing = new Proxy({} as Database, {
      get: () => () => {
        throw new Error('relation "secret_internal_table" does not exist: SELECT * FROM secret_internal_table');
      },
    });
    const server = mcpServer({
      db: failing,
      env,
      user: {
        id: admin.id,
        email: admin.email,
        name: admin.username,
        roles: ["admin"],
        permissions: permissionsFor(["admin"]),
        jti: "",
        sessionId: "",
        credential: "session",
        scopes: null,
      },
      audit: { actorId: admin.id, actorEmail: admin.email, ip: null, userAgent: null, requestId: "req-mcp-500" },
    });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: "t", version: "1" });
    await client.connect(clientSide);
    const result = await client.callTool({ name: "get_execution", arguments: { id: crypto.randomUUID() } });
    const text = (result.content as Array<{ text: string }>)[0].text;
    expect(result.isError).toBe(true);
    expect(text).toBe("An unexpected error occurred (request req-mcp-500)");
    await client.close();
  });
});

describe("MCP client tools", () => {
  const mcpUrl = (name: string) => `${env.TEST_OUTSIDE_URL}/mcp/${name}`;
  const mcpRequests = async (name: string): Promise<Recorded[]> =>
    (await fetch(`${env.TEST_OUTSIDE_URL}/_requests/${name}`)).json();

  it("stop listing at a server's empty page instead of paging forever", async () => {
    const admin = await signIn("admin");
    const server = uniqueName("endless");
    const { agent } = await fakeModelAgent(admin.token, [completion({ content: "no tools here" })]);
    await addTool(admin.token, agent.id, {
      toolName: "endless",
      toolType: "mcp",
      configuration: { url: mcpUrl(server) },
    });
    const id = await workflowWith(admin.token, {
      steps: [{ id: "ask", type: "agent", agentId: agent.id, prompt: "go" }],
    });
    const started = await callJson(`/api/v1/workflows/${id}/executions`, { token: admin.token, body: { input: {} } });
    const done = await waitForExecution(admin.token, started.body.id, undefined, 30_000);
    expect(stepOf(done, "ask").status).toBe("completed");
    const lists = (await mcpRequests(server)).filter((r) => r.body.includes('"tools/list"'));
    expect(lists).toHaveLength(1);
  });

  it("read at most 1 MB of a server's answer (the rest never reaches memory), telling the model", async () => {
    const admin = await signIn("admin");
    const { endpoint, agent } = await fakeModelAgent(admin.token, [
      completion({ toolCalls: [{ name: "orders__huge_report", arguments: {} }] }),
      completion({ content: "summarised" }),
    ]);
    await addTool(admin.token, agent.id, {
      toolName: "orders",
      toolType: "mcp",
      configuration: { url: mcpUrl(uniqueName("orders")) },
    });
    const id = await workflowWith(admin.token, {
      steps: [{ id: "ask", type: "agent", agentId: agent.id, prompt: "go" }],
    });
    const started = await callJson(`/api/v1/workflows/${id}/executions`, { token: admin.token, body: { input: {} } });
    expect((await waitForExecution(admin.token, started.body.id, undefined, 30_000)).status).toBe("completed");
    const second = JSON.parse((await endpoint.requests())[1].body);
    const tool = second.messages.find((m: { role: string }) => m.role === "tool");
    expect(JSON.parse(tool.content)).toEqual({
      error: expect.stringMatching(/^the MCP tool huge_report failed: .*larger than 1048576 bytes/),
    });
  });
});
