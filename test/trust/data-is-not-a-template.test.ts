/**
 * Data never becomes a template. A planted `{{secrets.NAME}}` arrives through every door data
 * comes in by (a webhook's body, an upstream answer, a model's tool arguments, an MCP call's
 * arguments) and must reach the outside world as those characters, never as the secret's value.
 * The workflows belong to an admin, so the secret is theirs to use where the definition names it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signWebhook } from "../../src/services/webhooks";
import { stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { createVersion, createWorkflow } from "../helpers/fixtures";
import { callJson } from "../helpers/http";
import { connectMcpAs } from "../helpers/mcp";
import { addTool, completion, fakeModelAgent } from "../helpers/openai";
import { type Recorded, scriptEndpoint } from "../helpers/outside";
import { signIn, type TestUser } from "../helpers/users";

const NAME = `PLANTED_${crypto.randomUUID().replace(/-/g, "").slice(0, 10).toUpperCase()}`;
const VALUE = `planted-value-${crypto.randomUUID()}`;
const PLANT = `{{secrets.${NAME}}}`;

let admin: TestUser;

/** Every request the target saw, as one text: the value must not be in it, the template must. */
const seen = (requests: Recorded[]) =>
  requests.map((r) => `${r.path}\n${JSON.stringify(r.headers)}\n${decodeURIComponent(r.body)}`).join("\n");

function expectLiteral(requests: Recorded[]) {
  expect(requests.length).toBeGreaterThan(0);
  const text = seen(requests);
  expect(text).not.toContain(VALUE);
  expect(decodeURIComponent(text)).toContain(PLANT);
}

beforeAll(async () => {
  admin = await signIn("admin");
  const put = await callJson(`/api/v1/secrets/${NAME}`, { method: "PUT", token: admin.token, body: { value: VALUE } });
  expect(put.status).toBe(201);
});

afterAll(async () => {
  await callJson(`/api/v1/secrets/${NAME}`, { method: "DELETE", token: admin.token });
});

async function activeWorkflow(definition: unknown) {
  const wf = await createWorkflow(admin.token);
  await createVersion(admin.token, wf.id, definition);
  const patched = await callJson(`/api/v1/workflows/${wf.id}`, {
    method: "PATCH",
    token: admin.token,
    body: { status: "active" },
  });
  expect(patched.status).toBe(200);
  return { id: wf.id as string, name: wf.name as string };
}

describe("data is never a template", () => {
  it("sends a webhook body's {{secrets.X}} as text, in the url, a header and the body", async () => {
    const target = await scriptEndpoint([{ status: 200 }]);
    const wf = await activeWorkflow({
      steps: [
        {
          id: "notify",
          type: "http",
          request: {
            url: `${target.url}/issues?title={{input.title}}`,
            method: "POST",
            headers: { "x-title": "{{input.title}}" },
            body: { text: "New issue: {{input.title}}", raw: "{{input.title}}" },
          },
        },
      ],
    });
    const secret = await callJson(`/api/v1/workflows/${wf.id}/webhook-secret`, { method: "POST", token: admin.token });
    const body = JSON.stringify({ title: PLANT });
    const res = await callJson(`/api/v1/hooks/${wf.id}`, {
      body,
      headers: { "x-ipa-signature": await signWebhook(secret.body.secret, body) },
    });
    expect(res.status).toBe(202);
    const done = await waitForExecution(admin.token, res.body.id);
    expect(done.status).toBe("completed");
    const [sent] = await target.requests();
    expect(sent.headers["x-title"]).toBe(PLANT);
    expect(JSON.parse(sent.body)).toEqual({ text: `New issue: ${PLANT}`, raw: PLANT });
    expectLiteral([sent]);
  });

  it("sends an upstream answer's {{secrets.X}} as text", async () => {
    const upstream = await scriptEndpoint([{ status: 200, body: { note: PLANT, whole: { nested: PLANT } } }]);
    const target = await scriptEndpoint([{ status: 200 }]);
    const id = await workflowWith(admin.token, {
      steps: [
        { id: "read", type: "http", request: { url: upstream.url, method: "GET" } },
        {
          id: "forward",
          type: "http",
          dependsOn: ["read"],
          request: {
            url: `${target.url}/f/{{steps.read.output.body.note}}`,
            method: "POST",
            headers: { "x-note": "{{steps.read.output.body.note}}" },
            body: { note: "{{steps.read.output.body.note}}", whole: "{{steps.read.output.body.whole}}" },
          },
        },
      ],
    });
    const started = await callJson(`/api/v1/workflows/${id}/executions`, { token: admin.token, body: { input: {} } });
    const done = await waitForExecution(admin.token, started.body.id);
    expect(done.status).toBe("completed");
    const [sent] = await target.requests();
    expect(JSON.parse(sent.body)).toEqual({ note: PLANT, whole: { nested: PLANT } });
    expectLiteral([sent]);
  });

  it("sends what a model wrote (its answer, a workflow tool's arguments) holding {{secrets.X}} as text", async () => {
    const target = await scriptEndpoint([{ status: 200 }]);
    // The child sends its input on: a prompt-injected model chooses that input.
    const childId = await workflowWith(admin.token, {
      steps: [
        {
          id: "send",
          type: "http",
          request: { url: `${target.url}/child`, method: "POST", body: { q: "{{input.q}}" } },
        },
      ],
    });
    const made = await fakeModelAgent(admin.token, [
      completion({ toolCalls: [{ name: "run_child", arguments: { q: PLANT } }] }),
      completion({ content: `Forward this: ${PLANT}` }),
    ]);
    await addTool(admin.token, made.agent.id, {
      toolName: "run_child",
      toolType: "workflow",
      configuration: {
        workflowId: childId,
        parameters: { type: "object", properties: { q: { type: "string" } }, required: ["q"] },
      },
    });
    const id = await workflowWith(admin.token, {
      steps: [
        { id: "ask", type: "agent", agentId: made.agent.id, prompt: "Look it up" },
        {
          id: "forward",
          type: "http",
          dependsOn: ["ask"],
          request: { url: `${target.url}/parent`, method: "POST", body: { text: "{{steps.ask.output.text}}" } },
        },
      ],
    });
    const started = await callJson(`/api/v1/workflows/${id}/executions`, { token: admin.token, body: { input: {} } });
    const done = await waitForExecution(admin.token, started.body.id);
    expect(done.status).toBe("completed");
    const sent = await target.requests();
    expect(sent.map((r) => JSON.parse(r.body))).toEqual([{ q: PLANT }, { text: `Forward this: ${PLANT}` }]);
    expectLiteral(sent);
  });

  it("sends an MCP call's arguments holding {{secrets.X}} as text", async () => {
    const target = await scriptEndpoint([{ status: 200 }]);
    const wf = await activeWorkflow({
      inputSchema: { type: "object", properties: { title: { type: "string" } } },
      steps: [
        {
          id: "notify",
          type: "http",
          request: { url: target.url, method: "POST", body: { title: "{{input.title}}" } },
        },
      ],
    });
    const client = await connectMcpAs(admin.token);
    const tools = (await client.listTools()).tools.map((t) => t.name);
    const runName = tools.find((name) => name.startsWith(`run_${wf.name.toLowerCase().replace(/[^a-z0-9]+/g, "_")}`));
    expect(runName).toBeDefined();
    await client.callTool({ name: runName as string, arguments: { title: PLANT } });
    await client.close();
    await expect.poll(async () => (await target.requests()).length, { timeout: 20_000 }).toBe(1);
    expectLiteral(await target.requests());
  });

  it("does not fail a step whose data holds an unknown or broken secret template", async () => {
    const target = await scriptEndpoint([{ status: 200 }]);
    const id = await workflowWith(admin.token, {
      steps: [
        {
          id: "send",
          type: "http",
          request: { url: target.url, method: "POST", body: { a: "{{input.a}}", b: "x {{input.b}} y" } },
        },
      ],
    });
    const input = { a: "{{secrets.NOPE_NOT_SET}}", b: "{{secrets.NOPE" };
    const started = await callJson(`/api/v1/workflows/${id}/executions`, { token: admin.token, body: { input } });
    const done = await waitForExecution(admin.token, started.body.id);
    expect(stepOf(done, "send").status).toBe("completed");
    const [sent] = await target.requests();
    expect(JSON.parse(sent.body)).toEqual({ a: input.a, b: `x ${input.b} y` });
  });
});
