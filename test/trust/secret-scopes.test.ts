/**
 * Secrets stay in their scope: a platform secret serves admins' workflows and agents' tools, and
 * users' workflows only when shared; `allowedHosts` bounds where a request carrying one may go, on
 * the first URL and on every redirect hop; agents' tools never pick up a workflow's secret.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { hostMatches } from "../../src/secrets/resolver";
import { stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { createWorkflow } from "../helpers/fixtures";
import { callJson } from "../helpers/http";
import { addTool, completion, fakeModelAgent } from "../helpers/openai";
import { scriptEndpoint } from "../helpers/outside";
import { signIn, type TestUser } from "../helpers/users";

const secretName = () => `SCOPE_${crypto.randomUUID().replace(/-/g, "").slice(0, 12).toUpperCase()}`;

let admin: TestUser;
let user: TestUser;

beforeAll(async () => {
  [admin, user] = await Promise.all([signIn("admin"), signIn("user")]);
});

async function platformSecret(value: string, scope: Record<string, unknown> = {}) {
  const name = secretName();
  const put = await callJson(`/api/v1/secrets/${name}`, {
    method: "PUT",
    token: admin.token,
    body: { value, ...scope },
  });
  expect(put.status, JSON.stringify(put.body)).toBe(201);
  return name;
}

const sendsHeader = (url: string, name: string) => ({
  steps: [{ id: "send", type: "http", request: { url, method: "POST", headers: { "x-key": `{{secrets.${name}}}` } } }],
});

async function run(token: string, workflowId: string) {
  const started = await callJson(`/api/v1/workflows/${workflowId}/executions`, { token, body: { input: {} } });
  expect(started.status).toBe(202);
  return waitForExecution(token, started.body.id);
}

describe("platform secrets in users' workflows", () => {
  it("refuses a version naming an admin's unshared secret exactly as one naming no secret (422)", async () => {
    const target = await scriptEndpoint([{ status: 200 }]);
    const unshared = await platformSecret("admin-only-value");
    const wf = await createWorkflow(user.token);
    const named = await callJson(`/api/v1/workflows/${wf.id}/versions`, {
      token: user.token,
      body: { definition: sendsHeader(target.url, unshared) },
    });
    const unknown = secretName();
    const absent = await callJson(`/api/v1/workflows/${wf.id}/versions`, {
      token: user.token,
      body: { definition: sendsHeader(target.url, unknown) },
    });
    expect(named.status).toBe(422);
    expect(absent.status).toBe(422);
    const messages = (res: typeof named, name: string) =>
      res.body.error.details.map((d: { message: string }) => d.message.replace(name, "NAME"));
    expect(messages(named, unshared)).toEqual(["secret NAME: secret not available to this workflow"]);
    expect(messages(absent, unknown)).toEqual(messages(named, unshared));
    expect(await target.requests()).toEqual([]);
  });

  it("sends a shared one, and stops sending it once it is unshared (secret_missing, nothing sent)", async () => {
    const target = await scriptEndpoint([{ status: 200 }]);
    const shared = await platformSecret("shared-value", { sharedWithUsers: true });
    const workflowId = await workflowWith(user.token, sendsHeader(target.url, shared));
    expect((await run(user.token, workflowId)).status).toBe("completed");
    const unshare = await callJson(`/api/v1/secrets/${shared}`, {
      method: "PUT",
      token: admin.token,
      body: { value: "shared-value", sharedWithUsers: false },
    });
    expect(unshare.body).toMatchObject({ sharedWithUsers: false });
    const after = await run(user.token, workflowId);
    expect(stepOf(after, "send").error).toMatchObject({
      reason: "secret_missing",
      message: `the secret ${shared} is not available to this workflow`,
    });
    expect((await target.requests()).map((r) => r.headers["x-key"])).toEqual(["shared-value"]);
  });

  it("keeps working for admins' workflows without sharing", async () => {
    const target = await scriptEndpoint([{ status: 200 }]);
    const unshared = await platformSecret("admin-workflow-value");
    const workflowId = await workflowWith(admin.token, sendsHeader(target.url, unshared));
    expect((await run(admin.token, workflowId)).status).toBe("completed");
    expect((await target.requests())[0].headers["x-key"]).toBe("admin-workflow-value");
  });
});

describe("allowedHosts", () => {
  it("refuses to send a secret to another host: nothing is sent", async () => {
    const target = await scriptEndpoint([{ status: 200 }]);
    const name = await platformSecret("pinned-value", { allowedHosts: ["api.example.com"] });
    const workflowId = await workflowWith(admin.token, sendsHeader(target.url, name));
    const done = await run(admin.token, workflowId);
    expect(stepOf(done, "send")).toMatchObject({
      status: "failed",
      error: { reason: "secret_host_refused", message: `refused: the secret ${name} may not be sent to 127.0.0.1` },
    });
    expect(await target.requests()).toEqual([]);
  });

  it("refuses a redirect hop to a host outside them, before sending there", async () => {
    const elsewhere = "http://refused-hop.example.com/collect";
    const target = await scriptEndpoint([{ status: 302, headers: { location: elsewhere } }]);
    const name = await platformSecret("hop-value", { allowedHosts: ["127.0.0.1"] });
    const workflowId = await workflowWith(admin.token, sendsHeader(target.url, name));
    const done = await run(admin.token, workflowId);
    expect(stepOf(done, "send").error).toMatchObject({
      reason: "secret_host_refused",
      message: `refused: the secret ${name} may not be sent to refused-hop.example.com`,
    });
    expect((await target.requests()).length).toBe(1);
  });

  it("matches *.suffix patterns on the names under the suffix", () => {
    expect(hostMatches("api.example.com", "*.example.com")).toBe(true);
    expect(hostMatches("a.b.example.com", "*.example.com")).toBe(true);
    expect(hostMatches("example.com", "*.example.com")).toBe(false);
    expect(hostMatches("evilexample.com", "*.example.com")).toBe(false);
    expect(hostMatches("API.Example.com.", "api.example.com")).toBe(true);
  });

  it("refuses a 307 to another origin that would re-send a body carrying a secret", async () => {
    const other = await scriptEndpoint([{ status: 200 }]);
    const target = await scriptEndpoint([{ status: 307, headers: { location: other.otherOriginUrl } }]);
    const name = await platformSecret("body-value");
    const workflowId = await workflowWith(admin.token, {
      steps: [
        {
          id: "send",
          type: "http",
          request: { url: target.url, method: "POST", body: { key: `{{secrets.${name}}}` } },
        },
      ],
    });
    const done = await run(admin.token, workflowId);
    expect(stepOf(done, "send").error).toMatchObject({ reason: "redirect_refused" });
    expect(await other.requests()).toEqual([]);
  });
});

describe("agents' tools", () => {
  it("send the platform's secret, never a workflow's secret of the same name", async () => {
    const tool = await scriptEndpoint([{ status: 200, body: { ok: true } }]);
    const name = await platformSecret("platform-tool-value");
    const made = await fakeModelAgent(admin.token, [
      completion({ toolCalls: [{ name: "lookup", arguments: {} }] }),
      completion({ content: "done" }),
    ]);
    await addTool(admin.token, made.agent.id, {
      toolName: "lookup",
      toolType: "http",
      configuration: { url: tool.url, method: "GET", headers: { "x-key": `{{secrets.${name}}}` } },
    });
    // A user's workflow defines a secret of that name, hoping the shared agent's tool sends it.
    const wf = await createWorkflow(user.token);
    await callJson(`/api/v1/workflows/${wf.id}/secrets/${name}`, {
      method: "PUT",
      token: user.token,
      body: { value: "workflow-shadow-value" },
    });
    const created = await callJson(`/api/v1/workflows/${wf.id}/versions`, {
      token: user.token,
      body: { definition: { steps: [{ id: "ask", type: "agent", agentId: made.agent.id, prompt: "go" }] } },
    });
    expect(created.status).toBe(201);
    expect((await run(user.token, wf.id)).status).toBe("completed");
    expect((await tool.requests())[0].headers["x-key"]).toBe("platform-tool-value");
  });
});
