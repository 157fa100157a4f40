/**
 * API tokens carry scopes: a subset of their owner's permissions, never `users:manage`. A request
 * or an MCP tool needing a permission outside them answers 403 INSUFFICIENT_SCOPE; a token list is
 * paginated and shows the scopes; a user holds at most QUOTA_API_TOKENS_PER_USER live tokens.
 */
import { describe, expect, it } from "vitest";
import { createVersion, createWorkflow, transformDefinition } from "../helpers/fixtures";
import { callJson } from "../helpers/http";
import { connectMcpAs } from "../helpers/mcp";
import { signIn } from "../helpers/users";

async function tokenFor(sessionToken: string, body: Record<string, unknown>) {
  const res = await callJson("/api/v1/auth/api-tokens", { token: sessionToken, body: { name: "ci", ...body } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; token: string; scopes: string[] };
}

describe("API token scopes", () => {
  it("let a workflows:read token read (200) but not write (403 INSUFFICIENT_SCOPE), in the API and over MCP", async () => {
    const user = await signIn("user");
    const wf = await createWorkflow(user.token, { name: `scoped-${crypto.randomUUID().slice(0, 8)}` });
    await createVersion(user.token, wf.id, transformDefinition);
    await callJson(`/api/v1/workflows/${wf.id}`, { method: "PATCH", token: user.token, body: { status: "active" } });
    const { token, scopes } = await tokenFor(user.token, { scopes: ["workflows:read"] });
    expect(scopes).toEqual(["workflows:read"]);

    expect((await callJson("/api/v1/workflows", { token })).status).toBe(200);
    const created = await callJson("/api/v1/workflows", { token, body: { name: "nope" } });
    expect(created.status).toBe(403);
    expect(created.body.error.code).toBe("INSUFFICIENT_SCOPE");
    const started = await callJson(`/api/v1/workflows/${wf.id}/executions`, { token, body: { input: {} } });
    expect(started.status).toBe(403);
    expect(started.body.error.code).toBe("INSUFFICIENT_SCOPE");
    expect((await callJson("/api/v1/executions", { token })).body.error.code).toBe("INSUFFICIENT_SCOPE");

    const me = await callJson("/api/v1/auth/me", { token });
    expect(me.body).toMatchObject({ permissions: ["workflows:read"], scopes: ["workflows:read"] });

    const client = await connectMcpAs(token);
    expect((await client.listTools()).tools).toEqual([]);
    const run = await client.callTool({ name: `run_${wf.name}`, arguments: {} });
    expect(run.isError).toBe(true);
    expect((run.content as Array<{ text: string }>)[0].text).toContain("INSUFFICIENT_SCOPE");
    const read = await client.callTool({ name: "get_execution", arguments: { id: crypto.randomUUID() } });
    expect((read.content as Array<{ text: string }>)[0].text).toContain("INSUFFICIENT_SCOPE");
    await client.close();
  });

  it("never carry users:manage, nor a permission the owner's roles lack (422)", async () => {
    const admin = await signIn("admin");
    const user = await signIn("user");
    const manage = await callJson("/api/v1/auth/api-tokens", {
      token: admin.token,
      body: { name: "x", scopes: ["users:manage"] },
    });
    expect(manage.status).toBe(422);
    const beyond = await callJson("/api/v1/auth/api-tokens", {
      token: user.token,
      body: { name: "x", scopes: ["backups:manage"] },
    });
    expect(beyond.status).toBe(422);
    // An admin's token made without scopes may do what an admin does, but manage users.
    const { token, scopes } = await tokenFor(admin.token, {});
    expect(scopes).not.toContain("users:manage");
    expect(scopes).toContain("backups:manage");
    expect((await callJson("/api/v1/admin/backups", { token })).status).toBe(200);
    const users = await callJson("/api/v1/users", { token });
    expect(users.status).toBe(403);
    expect(users.body.error.code).toBe("INSUFFICIENT_SCOPE");
    expect((await callJson("/api/v1/users", { token: admin.token })).status).toBe(200);
  });

  it("are listed with their scopes a page at a time, at most QUOTA_API_TOKENS_PER_USER live (429)", async () => {
    const user = await signIn("user");
    const first = await tokenFor(user.token, { scopes: ["executions:read"] });
    await tokenFor(user.token, {});
    const page = await callJson("/api/v1/auth/api-tokens?limit=1", { token: user.token });
    expect(page.body.items).toHaveLength(1);
    expect(page.body.nextCursor).toEqual(expect.any(String));
    const next = await callJson(`/api/v1/auth/api-tokens?limit=1&cursor=${page.body.nextCursor}`, {
      token: user.token,
    });
    expect(next.body.items).toEqual([expect.objectContaining({ id: first.id, scopes: ["executions:read"] })]);
    expect(next.body.nextCursor).toBeNull();
    for (let i = 2; i < 50; i++) await tokenFor(user.token, {});
    const over = await callJson("/api/v1/auth/api-tokens", { token: user.token, body: { name: "one too many" } });
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe("QUOTA_EXCEEDED");
    // A revoked token frees its place.
    await callJson(`/api/v1/auth/api-tokens/${first.id}`, { method: "DELETE", token: user.token });
    await tokenFor(user.token, {});
  });
});
