/** Builders for the objects most tests need, created through the API as a client would. */
import { expect } from "vitest";
import { callJson } from "./http";
import { uniqueName } from "./users";

export async function createWorkflow(token: string, body: Record<string, unknown> = {}) {
  const res = await callJson("/api/v1/workflows", { token, body: { name: uniqueName("wf"), ...body } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

export async function createVersion(
  token: string,
  workflowId: string,
  definition: unknown,
  extra: Record<string, unknown> = {},
) {
  const res = await callJson(`/api/v1/workflows/${workflowId}/versions`, { token, body: { definition, ...extra } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

export async function createAgent(adminToken: string, body: Record<string, unknown> = {}) {
  const res = await callJson("/api/v1/agents", {
    token: adminToken,
    body: {
      name: uniqueName("agent"),
      type: "custom",
      configuration: { provider: "builtin" },
      modelName: "builtin-echo",
      ...body,
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

export const transformDefinition = {
  steps: [{ id: "hello", type: "transform", output: { greeting: "hi {{input.name}}" } }],
};
