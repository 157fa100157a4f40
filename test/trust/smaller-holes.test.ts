/**
 * The smaller holes of the trust review, each attacked: a /64 spraying passwords, unknown API
 * tokens flooding the database, /health/ready's details to anyone, the metrics token's length,
 * an agent's key echoed by its provider into errors and spans, literal credentials read by
 * viewers, a tool's URL sent to the model, and too many versions or secrets on one workflow.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { permissionsFor } from "../../src/auth/permissions";
import type { AuthenticatedUser } from "../../src/auth/principal";
import { settings } from "../../src/config";
import { secretEquals } from "../../src/crypto/encoding";
import { clientKey } from "../../src/net/client-address";
import { QuotaExceededError } from "../../src/services/quotas";
import { putSecret } from "../../src/services/secrets";
import { createVersion as createVersionDirectly } from "../../src/services/versions";
import { withDb } from "../helpers/db";
import { start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { createVersion, createWorkflow } from "../helpers/fixtures";
import { callJson } from "../helpers/http";
import { addTool, completion, fakeModelAgent } from "../helpers/openai";
import { scriptEndpoint } from "../helpers/outside";
import { spansUntil } from "../helpers/traces";
import { createUser, signIn, type TestUser } from "../helpers/users";
import { freshMinute } from "../helpers/waits";

const audit = { actorId: null, actorEmail: "holes-test", ip: null, userAgent: null, requestId: null };
const principal = (user: TestUser): AuthenticatedUser => ({
  id: user.id,
  email: user.email,
  name: user.username,
  roles: user.roles,
  permissions: permissionsFor(user.roles),
  jti: "",
  sessionId: "",
  credential: "session",
  scopes: null,
});

/** A /64 of its own per call (documentation prefix 2001:db8::/32). */
const freshPrefix = () =>
  `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:${Math.floor(Math.random() * 0xffff).toString(16)}`;

describe("per-client limits", () => {
  it("count an IPv6 client by its /64: one network spraying passwords from many addresses is locked", async () => {
    const prefix = freshPrefix();
    const users = await Promise.all(Array.from({ length: 7 }, () => createUser("user")));
    const statuses: number[] = [];
    let host = 1;
    for (const user of users)
      for (let i = 0; i < 3; i++) {
        const answer = await callJson("/api/v1/auth/login", {
          body: { email: user.email, password: "wrong-password-123" },
          headers: { "cf-connecting-ip": `${prefix}:0:0:0:${(host++).toString(16)}` },
        });
        statuses.push(answer.status);
      }
    expect(statuses.filter((s) => s === 401)).toHaveLength(20);
    expect(statuses.at(-1)).toBe(429);
    expect(clientKey(`${prefix}:1:2:3:4`)).toBe(`${prefix}::/64`);
    expect(clientKey("::ffff:198.51.100.7")).toBe("198.51.100.7");
    expect(clientKey("198.51.100.7")).toBe("198.51.100.7");
  });

  it("count unknown API tokens against their client before looking them up", async () => {
    const ip = `${freshPrefix()}::1`;
    const statuses: number[] = [];
    // All seven hundred within one counting minute (two minutes would give two budgets).
    await freshMinute(20_000);
    for (let batch = 0; batch < 7; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 100 }, () =>
          callJson("/api/v1/auth/me", {
            token: `ipa_${crypto.randomUUID().replace(/-/g, "")}${"x".repeat(11)}`,
            headers: { "cf-connecting-ip": ip },
          }),
        ),
      );
      statuses.push(...answers.map((a) => a.status));
    }
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(600);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(100);
  });
});

describe("operational detail", () => {
  it("shows /health/ready's details only to METRICS_TOKEN or metrics:read", async () => {
    const anonymous = await callJson("/health/ready");
    expect(anonymous.body.checks.length).toBeGreaterThan(0);
    expect(anonymous.body.checks.every((check: { detail?: string }) => check.detail === undefined)).toBe(true);
    const withToken = await callJson("/health/ready", { token: env.METRICS_TOKEN });
    const withAdmin = await callJson("/health/ready", { token: (await signIn("admin")).token });
    const withUser = await callJson("/health/ready", { token: (await signIn("user")).token });
    // The backup check explains itself (no backups here yet, or their age) to operators only. It
    // may be healthy at this moment (the backup files, running beside this one, take fresh
    // backups of this database): then it has nothing to explain to anyone.
    const backups = (body: { checks: Array<{ name: string; ok: boolean; detail?: string }> }) =>
      body.checks.find((check) => check.name === "backups");
    for (const detailed of [withToken, withAdmin]) {
      const check = backups(detailed.body);
      expect(check?.ok || (check?.detail ?? "") !== "", JSON.stringify(check)).toBe(true);
    }
    expect(backups(withUser.body)?.detail).toBeUndefined();
  });

  it("compares the metrics token in constant time whatever its length", async () => {
    expect(secretEquals("a", env.METRICS_TOKEN)).toBe(false);
    expect(secretEquals(`${env.METRICS_TOKEN}x`, env.METRICS_TOKEN)).toBe(false);
    expect(secretEquals(env.METRICS_TOKEN, env.METRICS_TOKEN)).toBe(true);
    expect((await callJson("/metrics", { token: "short" })).status).toBe(401);
  });
});

describe("an agent's key", () => {
  it("is scrubbed from a provider's error before it reaches the step's error and its spans", async () => {
    const admin = await signIn("admin");
    const apiKey = `sk-echoed-${crypto.randomUUID()}`;
    const { agent } = await fakeModelAgent(
      admin.token,
      [{ status: 401, body: { error: { message: `Incorrect API key provided: ${apiKey}` } } }],
      { apiKey },
    );
    const workflowId = await workflowWith(admin.token, {
      steps: [{ id: "ask", type: "agent", agentId: agent.id, prompt: "hi" }],
    });
    const traceId = crypto.randomUUID().replace(/-/g, "");
    const started = await callJson(`/api/v1/workflows/${workflowId}/executions`, {
      token: admin.token,
      body: { input: {} },
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    const done = await waitForExecution(admin.token, started.body.id, undefined, 30_000);
    const error = stepOf(done, "ask").error;
    expect(error.message).toContain("[agent api key]");
    expect(JSON.stringify(done)).not.toContain(apiKey);
    // A failed model call is recorded on the agent step's span, with the provider's words.
    const spans = await spansUntil(traceId, (all) => all.some((s) => s.name.startsWith("invoke_agent ")));
    expect(JSON.stringify(spans)).toContain("[agent api key]");
    expect(JSON.stringify(spans)).not.toContain(apiKey);
  });
});

describe("literal credentials", () => {
  it("are shown as *** to readers who may not change them; secret references as written", async () => {
    const [admin, owner, viewer] = await Promise.all([signIn("admin"), signIn("user"), signIn("viewer")]);
    const target = await scriptEndpoint([{ status: 200 }]);
    const workflowId = await workflowWith(owner.token, {
      steps: [
        {
          id: "call",
          type: "http",
          request: {
            url: `${target.url}/x?api_key=live-query-key&page=2`,
            headers: {
              authorization: "Bearer sk-live-literal",
              "x-trace": "plain",
              "x-api-key": "{{secrets.NOT_NEEDED}}",
            },
          },
        },
      ],
    }).catch(() => null);
    // Versions may name only secrets the workflow may use: the reference case is its own test below.
    expect(workflowId).toBeNull();
    const wf = await createWorkflow(owner.token);
    await callJson(`/api/v1/workflows/${wf.id}/secrets/OWN_KEY`, {
      method: "PUT",
      token: owner.token,
      body: { value: "v" },
    });
    const request = {
      url: `${target.url}/x?api_key=live-query-key&page=2`,
      headers: { authorization: "Bearer sk-live-literal", "x-trace": "plain", "x-api-key": "{{secrets.OWN_KEY}}" },
    };
    await createVersion(owner.token, wf.id, { steps: [{ id: "call", type: "http", request }] });
    const masked = {
      url: `${target.url}/x?api_key=***&page=2`,
      headers: { authorization: "***", "x-trace": "plain", "x-api-key": "{{secrets.OWN_KEY}}" },
    };
    const read = (token: string) => callJson(`/api/v1/workflows/${wf.id}/versions/1`, { token });
    expect((await read(viewer.token)).body.definition.steps[0].request).toMatchObject(masked);
    expect((await read(owner.token)).body.definition.steps[0].request).toMatchObject(request);

    const id = await start(owner.token, wf.id);
    const done = await waitForExecution(owner.token, id);
    expect((await target.requests())[0].headers.authorization).toBe("Bearer sk-live-literal");
    const viewed = await callJson(`/api/v1/executions/${id}`, { token: viewer.token });
    expect(stepOf(viewed.body, "call").input).toMatchObject(masked);
    expect(JSON.stringify(done)).not.toContain("sk-live-literal");

    const { agent } = await fakeModelAgent(admin.token, []);
    await addTool(admin.token, agent.id, {
      toolName: "crm",
      toolType: "http",
      configuration: { url: "https://crm.example.com/find?token=crm-literal&q={{q}}", method: "GET" },
    });
    const tools = (token: string) => callJson(`/api/v1/agents/${agent.id}/tools`, { token });
    expect((await tools(viewer.token)).body.items[0].configuration.url).toBe(
      "https://crm.example.com/find?token=***&q={{q}}",
    );
    expect((await tools(admin.token)).body.items[0].configuration.url).toContain("crm-literal");
  });

  it("never reach the model through a tool's default description", async () => {
    const admin = await signIn("admin");
    const { endpoint, agent } = await fakeModelAgent(admin.token, [completion({ content: "ok" })]);
    await addTool(admin.token, agent.id, {
      toolName: "crm",
      toolType: "http",
      configuration: { url: "https://crm.example.com/find?token=crm-literal-2", method: "GET" },
    });
    const workflowId = await workflowWith(admin.token, {
      steps: [{ id: "ask", type: "agent", agentId: agent.id, prompt: "hi" }],
    });
    await waitForExecution(admin.token, await start(admin.token, workflowId), undefined, 30_000);
    const offered = JSON.parse((await endpoint.requests())[0].body).tools;
    expect(offered[0].function.description).toBe("The crm tool");
    expect(JSON.stringify(offered)).not.toContain("crm.example.com");
  });
});

describe("limits per workflow", () => {
  it("refuse versions and secrets beyond QUOTA_VERSIONS_PER_WORKFLOW and QUOTA_SECRETS_PER_WORKFLOW (429)", async () => {
    const owner = await signIn("user");
    const wf = await createWorkflow(owner.token);
    const config = { ...settings(env), QUOTA_VERSIONS_PER_WORKFLOW: 2, QUOTA_SECRETS_PER_WORKFLOW: 2 };
    const definition = { steps: [{ id: "t", type: "transform", output: 1 }] };
    await withDb(async ({ db }) => {
      for (let i = 0; i < 2; i++)
        await createVersionDirectly(db, config, principal(owner), audit, wf.id, { definition });
      await expect(
        createVersionDirectly(db, config, principal(owner), audit, wf.id, { definition }),
      ).rejects.toBeInstanceOf(QuotaExceededError);
      const scope = { kind: "workflow" as const, workflowId: wf.id };
      for (const name of ["A_ONE", "A_TWO"])
        await putSecret(db, config, principal(owner), audit, scope, name, { value: "v" });
      // Replacing one is not adding one.
      await putSecret(db, config, principal(owner), audit, scope, "A_ONE", { value: "w" });
      await expect(
        putSecret(db, config, principal(owner), audit, scope, "A_THREE", { value: "v" }),
      ).rejects.toBeInstanceOf(QuotaExceededError);
    });
  });
});
