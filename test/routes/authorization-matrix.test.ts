/**
 * The authorization matrix of docs/security.md, generated from the OpenAPI document: every operation is
 * called without a token, and by an admin, a user and a viewer on an object of their own and on
 * someone else's, and must answer 401, 403, 404 or success exactly as the table in docs/security.md says.
 * An operation the document lists but RULES does not know fails the test, so a new route cannot
 * escape the matrix; the rules are written from docs/security.md, not from the code.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { query } from "../helpers/db";
import { start, waitForExecution, workflowWith } from "../helpers/executions";
import { call, callJson } from "../helpers/http";
import { signIn, type TestUser, uniqueName } from "../helpers/users";

type Role = "admin" | "user" | "viewer";
/** What the path's object is: its visibility decides 404 before the permission decides 403. */
/** "own": the caller's own object (a token, a bulk job), seen by no one else, admins included. */
type Scope = "workflow" | "execution" | "own" | "none";
interface Rule {
  /** docs/security.md's permission, or "any" for every signed-in caller. */
  permission: string;
  scope: Scope;
}

/** docs/security.md: which role holds which permission. */
const GRANTS: Record<Role, string[]> = {
  admin: ["*"],
  user: [
    "workflows:read",
    "workflows:create",
    "workflows:update",
    "executions:read",
    "executions:create",
    "executions:retry",
    "executions:cancel",
    "executions:approve",
    "executions:signal",
    "agents:read",
  ],
  viewer: ["workflows:read", "executions:read", "agents:read"],
};

const any = { permission: "any", scope: "none" } as const;
const on = (scope: Scope, permission: string): Rule => ({ permission, scope });
const plain = (permission: string): Rule => ({ permission, scope: "none" });

/** Routes reached without a bearer token (their own tests cover the signature and ticket checks). */
const PUBLIC = new Set([
  "POST /auth/login",
  "POST /auth/refresh",
  "GET /executions/{id}/stream",
  "POST /hooks/{workflowId}",
  "POST /hooks/{workflowId}/executions/{id}/events/{name}",
  // Outside /api/v1: the probes answer anyone; /metrics has its own test below.
  "GET /health/live",
  "GET /health/ready",
  "GET /metrics",
]);

const RULES: Record<string, Rule> = {
  // Any signed-in caller speaks MCP; each tool checks its own permission (test/routes/mcp-server.test.ts).
  "POST /mcp": any,
  "POST /auth/api-tokens": any,
  "GET /auth/api-tokens": any,
  "DELETE /auth/api-tokens/{id}": on("own", "any"),
  "POST /auth/logout": any,
  "GET /auth/me": any,
  "GET /users": plain("users:manage"),
  "POST /users": plain("users:manage"),
  "GET /users/{id}": plain("users:manage"),
  "PATCH /users/{id}": plain("users:manage"),
  "DELETE /users/{id}": plain("users:manage"),
  "GET /workflows": plain("workflows:read"),
  "POST /workflows": plain("workflows:create"),
  "GET /workflows/{id}": on("workflow", "workflows:read"),
  "PATCH /workflows/{id}": on("workflow", "workflows:update"),
  "DELETE /workflows/{id}": on("workflow", "workflows:delete"),
  "GET /workflows/{id}/versions": on("workflow", "workflows:read"),
  "POST /workflows/{id}/versions": on("workflow", "workflows:update"),
  "GET /workflows/{id}/versions/{n}": on("workflow", "workflows:read"),
  "PUT /workflows/{id}/current-version": on("workflow", "workflows:update"),
  "POST /workflows/{id}/webhook-secret": on("workflow", "workflows:update"),
  "GET /workflows/{id}/secrets": on("workflow", "workflows:update"),
  "PUT /workflows/{id}/secrets/{name}": on("workflow", "workflows:update"),
  "DELETE /workflows/{id}/secrets/{name}": on("workflow", "workflows:update"),
  "POST /workflows/{id}/executions": on("workflow", "executions:create"),
  "GET /secrets": plain("secrets:manage"),
  "PUT /secrets/{name}": plain("secrets:manage"),
  "DELETE /secrets/{name}": plain("secrets:manage"),
  "GET /agents": plain("agents:read"),
  "POST /agents": plain("agents:create"),
  "GET /agents/{id}": plain("agents:read"),
  "PATCH /agents/{id}": plain("agents:update"),
  "DELETE /agents/{id}": plain("agents:delete"),
  "GET /agents/{id}/tools": plain("agents:read"),
  "POST /agents/{id}/tools": plain("agents:update"),
  "GET /agents/{id}/tools/{toolId}": plain("agents:read"),
  "PATCH /agents/{id}/tools/{toolId}": plain("agents:update"),
  "DELETE /agents/{id}/tools/{toolId}": plain("agents:update"),
  "GET /approvals": plain("executions:approve"),
  "GET /audit": plain("audit:read"),
  "GET /audit/verify": plain("audit:read"),
  "GET /executions": plain("executions:read"),
  "POST /executions/bulk": plain("executions:cancel"),
  "GET /executions/bulk/{id}": on("own", "any"),
  "GET /executions/{id}": on("execution", "executions:read"),
  "GET /executions/{id}/logs": on("execution", "executions:read"),
  "GET /executions/{id}/steps/{stepId}/output": on("execution", "executions:read"),
  "GET /executions/{id}/steps/{stepId}/items": on("execution", "executions:read"),
  "POST /executions/{id}/stream-ticket": on("execution", "executions:read"),
  "POST /executions/{id}/cancel": on("execution", "executions:cancel"),
  "POST /executions/{id}/pause": on("execution", "executions:cancel"),
  "POST /executions/{id}/resume": on("execution", "executions:cancel"),
  "POST /executions/{id}/retry": on("execution", "executions:retry"),
  "POST /executions/{id}/rerun": on("execution", "executions:retry"),
  "POST /executions/{id}/steps/{stepId}/approve": on("execution", "executions:approve"),
  "POST /executions/{id}/steps/{stepId}/reject": on("execution", "executions:approve"),
  "POST /executions/{id}/events/{name}": on("execution", "executions:signal"),
  "GET /admin/backups": plain("backups:manage"),
  "POST /admin/backups": plain("backups:manage"),
  "GET /admin/backups/{id}": plain("backups:manage"),
  "POST /admin/backups/{id}/verify": plain("backups:manage"),
  "GET /admin/backups/{id}/objects/{name}": plain("backups:manage"),
  "GET /admin/drills": plain("backups:manage"),
  "POST /admin/drills": plain("backups:manage"),
  "GET /admin/drills/{id}": plain("backups:manage"),
  // Everyone lists the channels they manage (none for a viewer); the matrix creates a platform one.
  "GET /notification-channels": any,
  "POST /notification-channels": plain("settings:manage"),
  "PATCH /notification-channels/{id}": on("workflow", "workflows:update"),
  "DELETE /notification-channels/{id}": on("workflow", "workflows:update"),
  "GET /notification-channels/{id}/deliveries": on("workflow", "workflows:update"),
};

/** A valid body for each operation that takes one, so an allowed call succeeds. */
const BODIES: Record<string, () => unknown> = {
  "POST /mcp": () => ({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  "POST /auth/api-tokens": () => ({ name: "matrix" }),
  "POST /users": () => ({
    email: `${uniqueName("m")}@example.test`,
    username: uniqueName("m"),
    password: "matrix-password-123",
    roles: ["viewer"],
  }),
  "PATCH /users/{id}": () => ({ fullName: "Renamed" }),
  "POST /workflows": () => ({ name: uniqueName("wf") }),
  "PATCH /workflows/{id}": () => ({ description: "changed" }),
  "POST /workflows/{id}/versions": () => ({ definition: { steps: [{ id: "t", type: "transform", output: 2 }] } }),
  "PUT /workflows/{id}/current-version": () => ({ versionNumber: 1 }),
  "PUT /workflows/{id}/secrets/{name}": () => ({ value: "matrix-value" }),
  "POST /workflows/{id}/executions": () => ({ input: {} }),
  "PUT /secrets/{name}": () => ({ value: "matrix-value" }),
  "POST /agents": () => ({ name: uniqueName("agent"), type: "custom", configuration: { provider: "builtin" } }),
  "PATCH /agents/{id}": () => ({ description: "changed" }),
  "POST /agents/{id}/tools": () => ({
    toolName: uniqueName("tool").replace(/-/g, "_"),
    toolType: "builtin",
    configuration: { builtin: "current_time" },
  }),
  "PATCH /agents/{id}/tools/{toolId}": () => ({ isEnabled: false }),
  "POST /executions/{id}/rerun": () => ({ fromStep: "t", dryRun: true }),
  "POST /executions/bulk": () => ({ action: "cancel", filter: { tags: [uniqueName("matrix")] }, dryRun: true }),
  "POST /executions/{id}/steps/{stepId}/approve": () => ({ comment: "ok" }),
  "POST /executions/{id}/steps/{stepId}/reject": () => ({ comment: "no" }),
  "POST /executions/{id}/events/{name}": () => ({ payload: {} }),
  "POST /admin/backups": () => ({ kind: "incremental" }),
  "POST /notification-channels": () => ({
    name: uniqueName("matrix"),
    type: "slack",
    url: "https://hooks.example.com/matrix",
    events: ["backup.failed"],
  }),
  "PATCH /notification-channels/{id}": () => ({ name: "renamed" }),
};

/** Outcomes that mean the call got past authorization: success, or a conflict with the object's state. */
const PASSED = (status: number) => (status >= 200 && status < 300) || status === 409;

function expected(rule: Rule, role: Role, owned: boolean): 403 | 404 | "allowed" {
  const readsAll = role === "admin" || role === "viewer";
  if ((rule.scope === "workflow" || rule.scope === "execution") && !readsAll && !owned) return 404;
  if (rule.scope === "own" && !owned) return 404;
  const holds = rule.permission === "any" || GRANTS[role].includes("*") || GRANTS[role].includes(rule.permission);
  return holds ? "allowed" : 403;
}

const FLOW = {
  steps: [
    { id: "t", type: "transform", output: 1 },
    { id: "gate", type: "approval", dependsOn: ["t"] },
  ],
};

/** The objects a path names, made by a fresh admin and handed to `owner`. */
async function objectsFor(path: string, owner: TestUser): Promise<Record<string, string>> {
  const maker = await signIn("admin");
  const params: Record<string, string> = {};
  if (path.startsWith("/workflows/{id}")) {
    params.id = await workflowWith(maker.token, FLOW);
    await query("update workflows set owner_id = $2 where id = $1", [params.id, owner.id]);
    params.n = "1";
    params.name = `MATRIX_${crypto.randomUUID().replace(/-/g, "").slice(0, 12).toUpperCase()}`;
    await callJson(`/api/v1/workflows/${params.id}/secrets/${params.name}`, {
      method: "PUT",
      token: maker.token,
      body: { value: "v" },
    });
  } else if (path.startsWith("/notification-channels/{id}")) {
    // A channel of a workflow the owner owns (an admin made it, as admins may).
    const workflowId = await workflowWith(maker.token, FLOW);
    await query("update workflows set owner_id = $2 where id = $1", [workflowId, owner.id]);
    const channel = await callJson("/api/v1/notification-channels", {
      token: maker.token,
      body: { ...(BODIES["POST /notification-channels"]() as object), workflowId },
    });
    params.id = channel.body.id;
  } else if (path.startsWith("/executions/bulk/{id}")) {
    const [row] = await query<{ id: string }>(
      `insert into bulk_jobs (user_id, action, filter, execution_ids, status, audit)
       values ($1, 'cancel', '{}', '{}', 'completed', '{"actorId":null,"actorEmail":"matrix","ip":null,"userAgent":null,"requestId":null}')
       returning id`,
      [owner.id],
    );
    params.id = row.id;
  } else if (path.startsWith("/executions/{id}")) {
    const workflowId = await workflowWith(maker.token, FLOW);
    params.id = await start(maker.token, workflowId);
    await waitForExecution(maker.token, params.id, (e) =>
      e.steps.some((s: any) => s.stepId === "gate" && s.status === "waiting"),
    );
    await query("update workflows set owner_id = $2 where id = $1", [workflowId, owner.id]);
    await query("update executions set triggered_by = $2 where id = $1", [params.id, owner.id]);
    params.stepId = path.includes("/output") ? "t" : "gate";
    params.name = "matrix-event";
  } else if (path.startsWith("/agents/{id}")) {
    const agent = await callJson("/api/v1/agents", { token: maker.token, body: BODIES["POST /agents"]() });
    params.id = agent.body.id;
    const tool = await callJson(`/api/v1/agents/${params.id}/tools`, {
      token: maker.token,
      body: BODIES["POST /agents/{id}/tools"](),
    });
    params.toolId = tool.body.id;
  } else if (path.startsWith("/users/{id}")) {
    params.id = (await signIn("viewer")).id;
  } else if (path.startsWith("/auth/api-tokens/{id}")) {
    const [row] = await query<{ id: string }>(
      "insert into api_tokens (user_id, name, token_hash, prefix, expires_at) values ($1, 'matrix', $2, 'ipa_matrix', now() + interval '1 day') returning id",
      [owner.id, crypto.randomUUID()],
    );
    params.id = row.id;
  } else if (path.startsWith("/secrets/{name}")) {
    params.name = `MATRIX_${crypto.randomUUID().replace(/-/g, "").slice(0, 12).toUpperCase()}`;
    await callJson(`/api/v1/secrets/${params.name}`, { method: "PUT", token: maker.token, body: { value: "v" } });
  } else if (path.startsWith("/admin/drills/{id}")) {
    const [row] = await query<{ id: string }>(
      "insert into drills (trigger, status, reason) values ('manual', 'failed', 'matrix') returning id",
    );
    params.id = row.id;
  } else if (path.startsWith("/admin/backups/{id}")) {
    const id = crypto.randomUUID();
    const prefix = `test/matrix/${id}/`;
    await query(
      "insert into backups (id, kind, status, prefix, manifest) values ($1, 'full', 'completed', $2, '{}'::jsonb)",
      [id, prefix],
    );
    await env.STORAGE.put(`${prefix}manifest.json`, "{}");
    params.id = id;
    params.name = "manifest.json";
  }
  return params;
}

interface Operation {
  method: string;
  path: string;
  /** Where the path is served: under /api/v1, or at the origin (probes, metrics, MCP). */
  base: string;
}

async function operations(): Promise<Operation[]> {
  const document = (await callJson("/api/v1/openapi.json")).body;
  return Object.entries<Record<string, { servers?: Array<{ url: string }> }>>(document.paths).flatMap(([path, item]) =>
    // An operation served outside /api/v1 names the origin as its server.
    Object.entries(item).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      base: operation.servers?.[0]?.url === "/" ? "" : "/api/v1",
    })),
  );
}

const keyOf = (op: Operation) => `${op.method} ${op.path}`;
const fill = (path: string, params: Record<string, string>) =>
  path.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? crypto.randomUUID());

async function send(op: Operation, params: Record<string, string>, token?: string) {
  const body = BODIES[keyOf(op)]?.();
  const res = await call(`${op.base}${fill(op.path, params)}`, {
    method: op.method,
    token,
    // MCP's transport wants clients to accept both of its answer types.
    headers: { accept: "application/json, text/event-stream" },
    ...(body === undefined ? {} : { body }),
  });
  await res.body?.cancel();
  return res.status;
}

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

describe("the authorization matrix (docs/security.md), from the OpenAPI document", () => {
  it("knows every operation the document lists", async () => {
    const unknown = (await operations()).map(keyOf).filter((key) => !RULES[key] && !PUBLIC.has(key));
    expect(unknown, "operations without a rule: add them to RULES from docs/security.md").toEqual([]);
  });

  it("answers every operation × role × own/foreign object as docs/security.md says", async () => {
    const ops = (await operations()).filter((op) => !PUBLIC.has(keyOf(op)));
    const cases = ops.flatMap((op) => {
      const rule = RULES[keyOf(op)];
      const ownerships = rule.scope === "none" ? [true] : [true, false];
      return (["admin", "user", "viewer"] as const).flatMap((role) =>
        ownerships.map((owned) => ({ op, rule, role, owned })),
      );
    });
    const wrong: string[] = [];
    await inBatches(ops, 10, async (op) => {
      const status = await send(op, {});
      if (status !== 401) wrong.push(`${keyOf(op)} without a token: ${status}, expected 401`);
    });
    await inBatches(cases, 8, async ({ op, rule, role, owned }) => {
      const caller = await signIn(role);
      const owner = owned ? caller : await signIn("user");
      const status = await send(op, await objectsFor(op.path, owner), caller.token);
      const want = expected(rule, role, owned);
      const ok = want === "allowed" ? PASSED(status) : status === want;
      if (!ok) wrong.push(`${keyOf(op)} as ${role} on ${owned ? "own" : "foreign"}: ${status}, expected ${want}`);
    });
    expect(wrong.sort()).toEqual([]);
    expect(cases.length).toBeGreaterThan(150);
  }, 300_000);

  it("keeps /metrics to metrics:read or the metrics token", async () => {
    expect((await call("/metrics")).status).toBe(401);
    for (const role of ["user", "viewer"] as const) {
      expect((await call("/metrics", { token: (await signIn(role)).token })).status).toBe(403);
    }
    expect((await call("/metrics", { token: (await signIn("admin")).token })).status).toBe(200);
    expect((await call("/metrics", { token: env.METRICS_TOKEN })).status).toBe(200);
  });
});
