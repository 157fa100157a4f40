/** Running workflows and waiting for their executions, through the API. */
import { expect } from "vitest";
import { createVersion, createWorkflow } from "./fixtures";
import { callJson } from "./http";

export const TERMINAL = ["completed", "failed", "cancelled"];

/** Creates a workflow with `definition` as its current version and returns its id. */
export async function workflowWith(token: string, definition: unknown): Promise<string> {
  const wf = await createWorkflow(token);
  await createVersion(token, wf.id, definition);
  return wf.id;
}

export async function start(
  token: string,
  workflowId: string,
  input: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  const res = await callJson(`/api/v1/workflows/${workflowId}/executions`, { token, body: { input }, headers });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.id as string;
}

/** Polls GET /executions/:id until `until` holds (default: a terminal status). */
export async function waitForExecution(
  token: string,
  id: string,
  until: (execution: any) => boolean = (e) => TERMINAL.includes(e.status),
  timeoutMs = 20_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < deadline) {
    const res = await callJson(`/api/v1/executions/${id}`, { token });
    last = res.body;
    if (res.status === 200 && holds(until, last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`execution ${id} did not reach the expected state; last seen: ${JSON.stringify(last)}`);
}

/** A predicate that throws (a step not flushed yet) does not hold yet. */
function holds(until: (execution: any) => boolean, execution: any): boolean {
  try {
    return until(execution);
  } catch {
    return false;
  }
}

export function stepOf(execution: any, stepId: string): any {
  const step = execution.steps.find((s: { stepId: string }) => s.stepId === stepId);
  if (!step) throw new Error(`no step ${stepId} in ${JSON.stringify(execution.steps)}`);
  return step;
}

export async function logsOf(token: string, id: string): Promise<any[]> {
  const res = await callJson(`/api/v1/executions/${id}/logs?limit=200`, { token });
  return res.body.items;
}
