import { beforeAll, describe, expect, it } from "vitest";
import { query } from "../helpers/db";
import { createAgent, createWorkflow } from "../helpers/fixtures";
import { callJson } from "../helpers/http";
import { signIn, type TestUser } from "../helpers/users";

let admin: TestUser;
let activeAgentId: string;

beforeAll(async () => {
  admin = await signIn("admin");
  activeAgentId = (await createAgent(admin.token)).id;
});

/** Posts a definition and checks that nothing was written: no version, no audit row. */
async function rejected(definition: unknown) {
  const wf = await createWorkflow(admin.token);
  const res = await callJson(`/api/v1/workflows/${wf.id}/versions`, { token: admin.token, body: { definition } });
  const [{ versions }] = await query<{ versions: number }>(
    "select count(*)::int as versions from workflow_versions where workflow_id = $1",
    [wf.id],
  );
  const [{ audits }] = await query<{ audits: number }>(
    "select count(*)::int as audits from audit_logs where resource_id = $1 and action = 'workflow.version.create'",
    [wf.id],
  );
  expect(versions).toBe(0);
  expect(audits).toBe(0);
  expect(res.status).toBe(422);
  expect(res.body.error.code).toBe("VALIDATION_FAILED");
  return res.body.error.details as Array<{ path: string; message: string }>;
}

const t = (id: string, extra: Record<string, unknown> = {}) => ({ id, type: "transform", output: {}, ...extra });

describe("definition validation", () => {
  it("reports a dependency cycle", async () => {
    const details = await rejected({
      steps: [t("a", { dependsOn: ["c"] }), t("b", { dependsOn: ["a"] }), t("c", { dependsOn: ["b"] })],
    });
    expect(details).toEqual([{ path: "definition.steps.0.dependsOn", message: "dependency cycle: a -> c -> b -> a" }]);
  });

  it("reports a duplicate id", async () => {
    expect(await rejected({ steps: [t("a"), t("a")] })).toEqual([
      { path: "definition.steps.1.id", message: 'duplicate step id "a" (also steps.0)' },
    ]);
  });

  it("reports an unknown dependency and a self-dependency", async () => {
    expect(await rejected({ steps: [t("a", { dependsOn: ["ghost"] }), t("b", { dependsOn: ["b"] })] })).toEqual([
      { path: "definition.steps.0.dependsOn.0", message: 'unknown step "ghost"' },
      { path: "definition.steps.1.dependsOn.0", message: "a step cannot depend on itself" },
    ]);
  });

  it("reports an unknown step type", async () => {
    const details = await rejected({ steps: [{ id: "a", type: "teleport" }] });
    expect(details[0].path).toBe("definition.steps.0.type");
  });

  it("reports a missing agent", async () => {
    const ghost = crypto.randomUUID();
    expect(await rejected({ steps: [{ id: "a", type: "agent", agentId: ghost, prompt: "hi" }] })).toEqual([
      { path: "definition.steps.0.agentId", message: `agent ${ghost} does not exist` },
    ]);
  });

  it("reports a bad expression", async () => {
    const details = await rejected({
      steps: [t("a"), { id: "c", type: "condition", if: "steps.a.output.x == ", then: [], else: [], dependsOn: ["a"] }],
    });
    expect(details).toEqual([{ path: "definition.steps.1.if", message: expect.stringMatching(/^invalid expression/) }]);
  });

  it("reports a template that reads a step which is not an ancestor", async () => {
    const details = await rejected({
      steps: [t("a"), t("b", { output: { fromA: "{{steps.a.output.x}}" } })],
    });
    expect(details).toEqual([
      {
        path: "definition.steps.1.output.fromA",
        message: '"steps.a.output.x" reads step "a", which is not an ancestor of "b"',
      },
    ]);
  });

  it("reports a condition branch naming a step that does not depend on it, and bad template roots", async () => {
    const details = await rejected({
      steps: [
        t("a"),
        { id: "c", type: "condition", if: "input.ok", then: ["a"], dependsOn: [] },
        { id: "h", type: "http", request: { url: "https://x.test/{{config.key}}" } },
        { id: "s", type: "http", request: { url: "https://x.test/", headers: { "x-key": "{{secrets.key}}" } } },
        { id: "leak", type: "transform", output: "{{secrets.API_KEY}}" },
      ],
    });
    expect(details).toContainEqual({
      path: "definition.steps.1.then.0",
      message: '"a" must be a step that depends on "c"',
    });
    expect(details).toContainEqual({
      path: "definition.steps.2.request.url",
      message: expect.stringMatching(/paths start with input/),
    });
    expect(details).toContainEqual({
      path: "definition.steps.3.request.headers.x-key",
      message: '"secrets.key": secrets are read as secrets.NAME (A-Z, 0-9, _)',
    });
    // A secret read anywhere but an http step's request would land in a step's output.
    expect(details).toContainEqual({ path: "definition.steps.4.output", message: expect.stringMatching(/secrets/) });
  });

  it("reports unknown fields and out-of-range values with their paths", async () => {
    const details = await rejected({
      steps: [{ id: "a", type: "delay", seconds: 99_999_999, retry: { maxAttempts: 50 }, colour: "red" }],
    });
    const paths = details.map((d) => d.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "definition.steps.0.seconds",
        "definition.steps.0.retry.maxAttempts",
        "definition.steps.0",
      ]),
    );
  });

  it("accepts a full definition using every step type, ancestors, conditions and expressions", async () => {
    const wf = await createWorkflow(admin.token);
    const definition = {
      steps: [
        { id: "fetch", type: "http", request: { url: "https://api.example.com/items?q={{input.q}}", method: "GET" } },
        {
          id: "check",
          type: "condition",
          if: "steps.fetch.output.status == 200 && input.q != '' && !(input.n > 3) || 'x' in ['x', 'y']",
          then: ["summarize"],
          else: ["notify"],
          dependsOn: ["fetch"],
        },
        {
          id: "summarize",
          type: "agent",
          agentId: activeAgentId,
          prompt: "Summarize: {{steps.fetch.output.body}}",
          dependsOn: ["check"],
        },
        {
          id: "notify",
          type: "http",
          request: { url: "https://hooks.example.com/x", method: "POST", body: { q: "{{input.q}}" } },
          dependsOn: ["check"],
        },
        { id: "review", type: "approval", approverRoles: ["admin"], timeoutSeconds: 86400, dependsOn: ["summarize"] },
        { id: "wait", type: "delay", seconds: 5, dependsOn: ["review"] },
        {
          id: "done",
          type: "transform",
          output: { id: "{{execution.id}}", text: "{{steps.summarize.output.text}}" },
          dependsOn: ["wait"],
        },
      ],
    };
    const res = await callJson(`/api/v1/workflows/${wf.id}/versions`, { token: admin.token, body: { definition } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  });
});
