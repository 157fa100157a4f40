/**
 * Every route × every role, as docs/security.md says: allowed, 403 (permission missing on a visible
 * object or route) or 404 (object outside what the caller may read).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createAgent, createVersion, createWorkflow, transformDefinition } from "../helpers/fixtures";
import { callJson } from "../helpers/http";
import { signIn, type TestUser, uniqueName } from "../helpers/users";

type Actor = "admin" | "owner" | "otherUser" | "viewer";
const ACTORS: Actor[] = ["owner", "otherUser", "viewer", "admin"];

let people: Record<Actor, TestUser>;

beforeAll(async () => {
  people = {
    admin: await signIn("admin"),
    owner: await signIn("user"),
    otherUser: await signIn("user"),
    viewer: await signIn("viewer"),
  };
});

interface Context {
  workflowId: string;
  agentId: string;
  toolId: string;
  userId: string;
}

/** Fresh objects per call, so one actor's change never decides another actor's answer. */
async function freshContext(): Promise<Context> {
  const wf = await createWorkflow(people.owner.token);
  await createVersion(people.owner.token, wf.id, transformDefinition);
  const agent = await createAgent(people.admin.token);
  const tool = await callJson(`/api/v1/agents/${agent.id}/tools`, {
    token: people.admin.token,
    body: { toolName: "clock", toolType: "builtin", configuration: { builtin: "current_time" } },
  });
  const target = await signIn("user");
  return { workflowId: wf.id, agentId: agent.id, toolId: tool.body.id, userId: target.id };
}

interface Case {
  name: string;
  method: string;
  path: (c: Context) => string;
  body?: (c: Context) => unknown;
  expect: Record<Actor, number>;
}

const everyone = (status: number) => ({ admin: status, owner: status, otherUser: status, viewer: status });
const adminOnly = (status: number) => ({ admin: status, owner: 403, otherUser: 403, viewer: 403 });
const visibleRead = { admin: 200, owner: 200, otherUser: 404, viewer: 200 };
const ownerChange = (status: number) => ({ admin: status, owner: status, otherUser: 404, viewer: 403 });

const CASES: Case[] = [
  { name: "GET /auth/me", method: "GET", path: () => "/auth/me", expect: everyone(200) },
  { name: "GET /users", method: "GET", path: () => "/users", expect: adminOnly(200) },
  {
    name: "POST /users",
    method: "POST",
    path: () => "/users",
    body: () => ({
      email: `${uniqueName("u")}@example.test`,
      username: uniqueName("u"),
      password: "a-long-password-1",
      roles: ["viewer"],
    }),
    expect: adminOnly(201),
  },
  { name: "GET /users/:id", method: "GET", path: (c) => `/users/${c.userId}`, expect: adminOnly(200) },
  {
    name: "PATCH /users/:id",
    method: "PATCH",
    path: (c) => `/users/${c.userId}`,
    body: () => ({ fullName: "X" }),
    expect: adminOnly(200),
  },
  { name: "DELETE /users/:id", method: "DELETE", path: (c) => `/users/${c.userId}`, expect: adminOnly(200) },
  { name: "GET /workflows", method: "GET", path: () => "/workflows", expect: everyone(200) },
  {
    name: "POST /workflows",
    method: "POST",
    path: () => "/workflows",
    body: () => ({ name: uniqueName("wf") }),
    expect: { admin: 201, owner: 201, otherUser: 201, viewer: 403 },
  },
  { name: "GET /workflows/:id", method: "GET", path: (c) => `/workflows/${c.workflowId}`, expect: visibleRead },
  {
    name: "PATCH /workflows/:id",
    method: "PATCH",
    path: (c) => `/workflows/${c.workflowId}`,
    body: () => ({ description: "x" }),
    expect: ownerChange(200),
  },
  {
    name: "DELETE /workflows/:id",
    method: "DELETE",
    path: (c) => `/workflows/${c.workflowId}`,
    expect: { admin: 200, owner: 403, otherUser: 404, viewer: 403 },
  },
  {
    name: "GET /workflows/:id/versions",
    method: "GET",
    path: (c) => `/workflows/${c.workflowId}/versions`,
    expect: visibleRead,
  },
  {
    name: "POST /workflows/:id/versions",
    method: "POST",
    path: (c) => `/workflows/${c.workflowId}/versions`,
    body: () => ({ definition: transformDefinition }),
    expect: ownerChange(201),
  },
  {
    name: "GET /workflows/:id/versions/:n",
    method: "GET",
    path: (c) => `/workflows/${c.workflowId}/versions/1`,
    expect: visibleRead,
  },
  {
    name: "PUT /workflows/:id/current-version",
    method: "PUT",
    path: (c) => `/workflows/${c.workflowId}/current-version`,
    body: () => ({ versionNumber: 1 }),
    expect: ownerChange(200),
  },
  { name: "GET /agents", method: "GET", path: () => "/agents", expect: everyone(200) },
  {
    name: "POST /agents",
    method: "POST",
    path: () => "/agents",
    body: () => ({ name: uniqueName("a"), type: "custom", configuration: { provider: "builtin" } }),
    expect: adminOnly(201),
  },
  { name: "GET /agents/:id", method: "GET", path: (c) => `/agents/${c.agentId}`, expect: everyone(200) },
  {
    name: "PATCH /agents/:id",
    method: "PATCH",
    path: (c) => `/agents/${c.agentId}`,
    body: () => ({ description: "x" }),
    expect: adminOnly(200),
  },
  { name: "DELETE /agents/:id", method: "DELETE", path: (c) => `/agents/${c.agentId}`, expect: adminOnly(200) },
  { name: "GET /agents/:id/tools", method: "GET", path: (c) => `/agents/${c.agentId}/tools`, expect: everyone(200) },
  {
    name: "POST /agents/:id/tools",
    method: "POST",
    path: (c) => `/agents/${c.agentId}/tools`,
    body: () => ({ toolName: uniqueName("t"), toolType: "builtin", configuration: { builtin: "arithmetic" } }),
    expect: adminOnly(201),
  },
  {
    name: "GET /agents/:id/tools/:toolId",
    method: "GET",
    path: (c) => `/agents/${c.agentId}/tools/${c.toolId}`,
    expect: everyone(200),
  },
  {
    name: "PATCH /agents/:id/tools/:toolId",
    method: "PATCH",
    path: (c) => `/agents/${c.agentId}/tools/${c.toolId}`,
    body: () => ({ isEnabled: false }),
    expect: adminOnly(200),
  },
  {
    name: "DELETE /agents/:id/tools/:toolId",
    method: "DELETE",
    path: (c) => `/agents/${c.agentId}/tools/${c.toolId}`,
    expect: adminOnly(204),
  },
  { name: "GET /audit", method: "GET", path: () => "/audit", expect: adminOnly(200) },
  { name: "GET /audit/verify", method: "GET", path: () => "/audit/verify", expect: adminOnly(200) },
];

describe("permissions: every route × every role", () => {
  for (const testCase of CASES) {
    it(`${testCase.name}: ${ACTORS.map((a) => `${a} ${testCase.expect[a]}`).join(", ")}`, async () => {
      const mutates = testCase.method !== "GET";
      const shared = mutates ? null : await freshContext();
      const contexts = mutates ? await Promise.all(ACTORS.map(() => freshContext())) : [];
      const seen: Record<string, number> = {};
      for (const [index, actor] of ACTORS.entries()) {
        const context = shared ?? contexts[index];
        const res = await callJson(`/api/v1${testCase.path(context)}`, {
          method: testCase.method,
          token: people[actor].token,
          body: testCase.body?.(context),
        });
        seen[actor] = res.status;
      }
      expect(seen).toEqual(testCase.expect);
    });
  }
});
