/**
 * The secrets routes (docs/api.md): platform secrets for admins, workflow secrets for whoever may
 * update the workflow, values write-only; a workflow's secret overrides the platform's; and what
 * a viewer saw before secrets existed (a tool's Authorization header, a step's API key) is gone.
 */
import { describe, expect, it } from "vitest";
import { query } from "../helpers/db";
import { start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { createWorkflow } from "../helpers/fixtures";
import { callJson } from "../helpers/http";
import { addTool, fakeModelAgent } from "../helpers/openai";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";

const uniqueSecretName = () => `S_${crypto.randomUUID().replace(/-/g, "").slice(0, 16).toUpperCase()}`;
const putSecret = (
  path: string,
  token: string,
  value: unknown = "v4lue-of-the-secret",
  scope: Record<string, unknown> = {},
) => callJson(path, { method: "PUT", token, body: { value, ...scope } });

describe("platform secrets", () => {
  it("are created, replaced, listed by name and deleted by admins, and never shown", async () => {
    const admin = await signIn("admin");
    const name = uniqueSecretName();
    const created = await putSecret(`/api/v1/secrets/${name}`, admin.token, "first-value-123");
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      name,
      allowedHosts: null,
      sharedWithUsers: false,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect((await putSecret(`/api/v1/secrets/${name}`, admin.token, "second-value-456")).status).toBe(200);
    const list = await callJson("/api/v1/secrets", { token: admin.token });
    expect(list.body.items.find((item: { name: string }) => item.name === name)).toEqual({
      name,
      allowedHosts: null,
      sharedWithUsers: false,
      createdAt: created.body.createdAt,
      updatedAt: expect.any(String),
    });
    expect(JSON.stringify(list.body)).not.toContain("value");
    const [row] = await query<{ value: string }>("select value from secrets where name = $1", [name]);
    expect(row.value).toMatch(/^enc1:k2:/);
    await query("select audit_link(100000)"); // the sequencer links in arrival order
    const audit = await query<{ action: string; row: string }>(
      "select action, a::text as row from audit_logs a where resource_type = 'secret' and (after->>'name' = $1 or before->>'name' = $1) order by seq",
      [name],
    );
    expect(audit.map((a) => a.action)).toEqual(["secret.create", "secret.update"]);
    expect(audit.some((a) => a.row.includes("-value-"))).toBe(false);
    expect((await callJson(`/api/v1/secrets/${name}`, { method: "DELETE", token: admin.token })).status).toBe(204);
    expect((await callJson(`/api/v1/secrets/${name}`, { method: "DELETE", token: admin.token })).status).toBe(404);
  });

  it("are refused to users and viewers (403), and a bad name is a 400 and a bad value a 422", async () => {
    const admin = await signIn("admin");
    for (const role of ["user", "viewer"] as const) {
      const caller = await signIn(role);
      expect((await putSecret(`/api/v1/secrets/${uniqueSecretName()}`, caller.token)).status).toBe(403);
      expect((await callJson("/api/v1/secrets", { token: caller.token })).status).toBe(403);
    }
    const badName = await putSecret("/api/v1/secrets/lower_case", admin.token);
    // A name is a path parameter: a bad one is a 400 (docs/api.md), a bad body a 422.
    expect(badName.status).toBe(400);
    expect((await putSecret(`/api/v1/secrets/${uniqueSecretName()}`, admin.token, "")).status).toBe(422);
    const extra = await callJson(`/api/v1/secrets/${uniqueSecretName()}`, {
      method: "PUT",
      token: admin.token,
      body: { value: "x-value-1", note: "no" },
    });
    expect(extra.status).toBe(422);
  });
});

describe("workflow secrets", () => {
  it("belong to whoever may update the workflow: another user's is a 404, a viewer's a 403", async () => {
    const owner = await signIn("user");
    const workflow = await createWorkflow(owner.token);
    const name = uniqueSecretName();
    expect((await putSecret(`/api/v1/workflows/${workflow.id}/secrets/${name}`, owner.token)).status).toBe(201);
    const stranger = await signIn("user");
    expect((await putSecret(`/api/v1/workflows/${workflow.id}/secrets/${name}`, stranger.token)).status).toBe(404);
    expect((await callJson(`/api/v1/workflows/${workflow.id}/secrets`, { token: stranger.token })).status).toBe(404);
    const viewer = await signIn("viewer");
    expect((await callJson(`/api/v1/workflows/${workflow.id}/secrets`, { token: viewer.token })).status).toBe(403);
    const admin = await signIn("admin");
    const listed = await callJson(`/api/v1/workflows/${workflow.id}/secrets`, { token: admin.token });
    expect(listed.body.items.map((item: { name: string }) => item.name)).toEqual([name]);
  });

  it("override a platform secret of the same name, and take effect for the next request sent", async () => {
    const admin = await signIn("admin");
    const owner = await signIn("user");
    const name = uniqueSecretName();
    await putSecret(`/api/v1/secrets/${name}`, admin.token, "platform-value", { sharedWithUsers: true });
    const target = await scriptEndpoint([{ status: 200, body: {} }]);
    const workflowId = await workflowWith(owner.token, {
      steps: [{ id: "call", type: "http", request: { url: target.url, headers: { "x-key": `{{secrets.${name}}}` } } }],
    });
    const first = await start(owner.token, workflowId);
    await waitForExecution(owner.token, first);
    await putSecret(`/api/v1/workflows/${workflowId}/secrets/${name}`, owner.token, "workflow-value");
    const second = await start(owner.token, workflowId);
    await waitForExecution(owner.token, second);
    expect((await target.requests()).map((r) => r.headers["x-key"])).toEqual(["platform-value", "workflow-value"]);
    // What the execution shows is the template, never the value.
    const shown = await callJson(`/api/v1/executions/${second}`, { token: owner.token });
    expect(JSON.stringify(stepOf(shown.body, "call"))).not.toContain("workflow-value");
  });
});

describe("what a viewer could read", () => {
  it("sees a tool's header values and an http step's key as *** or as the secret's name only", async () => {
    const admin = await signIn("admin");
    const { agent } = await fakeModelAgent(admin.token, [], { apiKey: "sk-agent-key-123" });
    await addTool(admin.token, agent.id, {
      toolName: "crm",
      toolType: "http",
      configuration: {
        url: "https://crm.example.com/lookup",
        method: "GET",
        headers: { authorization: "Bearer crm-live-key-123" },
      },
    });
    const viewer = await signIn("viewer");
    const tools = await callJson(`/api/v1/agents/${agent.id}/tools`, { token: viewer.token });
    expect(tools.body.items[0].configuration.headers).toEqual({ authorization: "***" });
    const shown = await callJson(`/api/v1/agents/${agent.id}`, { token: viewer.token });
    expect(JSON.stringify([tools.body, shown.body])).not.toMatch(/crm-live-key-123|sk-agent-key-123/);
    const [row] = await query<{ row: string }>("select t::text as row from agent_tools t where agent_id = $1", [
      agent.id,
    ]);
    expect(row.row).not.toContain("crm-live-key-123");
    // Writing the mask back keeps the sealed value (a configuration read and saved round-trips).
    const toolId = tools.body.items[0].id;
    const saved = await callJson(`/api/v1/agents/${agent.id}/tools/${toolId}`, {
      method: "PATCH",
      token: admin.token,
      body: { configuration: tools.body.items[0].configuration },
    });
    expect(saved.status).toBe(200);
    const [after] = await query<{ row: string }>("select t::text as row from agent_tools t where id = $1", [toolId]);
    expect(after.row).toContain("$sealed");
  });
});
