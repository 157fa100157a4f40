/**
 * A read, and the writes that read before they act (start, approve, stream ticket), ask Postgres
 * whether the caller's token is still live beside their own first query, not before it. Each is
 * attacked here with a token logged out, and with a user deactivated in the database: the answer is
 * 401, never the data, and nothing is written or decided.
 */
import { describe, expect, it } from "vitest";
import { query } from "../helpers/db";
import { start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { mintTokens, signIn, type TestUser } from "../helpers/users";

const gated = { steps: [{ id: "gate", type: "approval" }] };

/** A user with a waiting execution, and a second session of theirs to spend. */
async function ownerWithWaitingExecution() {
  const owner = await signIn("user");
  const workflowId = await workflowWith(owner.token, gated);
  const executionId = await start(owner.token, workflowId);
  await waitForExecution(owner.token, executionId, (e) => stepOf(e, "gate")?.status === "waiting");
  return { owner, workflowId, executionId };
}

async function executionsOf(workflowId: string): Promise<number> {
  const [row] = await query<{ n: number }>("select count(*)::int as n from executions where workflow_id = $1", [
    workflowId,
  ]);
  return row.n;
}

async function ticketsOf(executionId: string): Promise<number> {
  const [row] = await query<{ n: number }>("select count(*)::int as n from stream_tickets where execution_id = $1", [
    executionId,
  ]);
  return row.n;
}

/** Every request the attack tries, with what must not have happened after it. */
async function attack(token: string, setup: Awaited<ReturnType<typeof ownerWithWaitingExecution>>, owner: TestUser) {
  const { workflowId, executionId } = setup;
  const answers = {
    list: await callJson("/api/v1/workflows?limit=20", { token }),
    get: await callJson(`/api/v1/executions/${executionId}`, { token }),
    missing: await callJson(`/api/v1/executions/${crypto.randomUUID()}`, { token }),
    start: await callJson(`/api/v1/workflows/${workflowId}/executions`, { token, body: { input: {} } }),
    approve: await callJson(`/api/v1/executions/${executionId}/steps/gate/approve`, { token, body: {} }),
    ticket: await callJson(`/api/v1/executions/${executionId}/stream-ticket`, { token, method: "POST" }),
  };
  for (const [name, answer] of Object.entries(answers)) {
    expect(answer.status, `${name}: ${JSON.stringify(answer.body)}`).toBe(401);
    expect(answer.body.error.code, name).toBe("UNAUTHORIZED");
  }
  expect(await executionsOf(workflowId)).toBe(1);
  expect(await ticketsOf(executionId)).toBe(0);
  // Still waiting: the approval never reached the execution's object.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const execution = await callJson(`/api/v1/executions/${executionId}`, { token: owner.token });
  expect(execution.status, JSON.stringify(execution.body)).toBe(200);
  expect(stepOf(execution.body, "gate").status).toBe("waiting");
  return answers;
}

describe("the caller's liveness, checked beside the request's own reads", () => {
  it("refuses every read and write of a logged-out token, and writes nothing", async () => {
    const setup = await ownerWithWaitingExecution();
    const spent = await mintTokens(setup.owner);
    expect((await callJson("/api/v1/workflows?limit=20", { token: spent.token })).status).toBe(200);
    expect((await callJson("/api/v1/auth/logout", { method: "POST", token: spent.token })).status).toBe(204);
    await attack(spent.token, setup, setup.owner);
  });

  it("refuses a user deactivated in the database at once, and writes nothing", async () => {
    const setup = await ownerWithWaitingExecution();
    const admin = await signIn("admin");
    await query("update users set is_active = false where id = $1", [setup.owner.id]);
    const answers = await attack(setup.owner.token, setup, admin);
    expect(answers.get.body.error.message).toMatch(/revoked/);
  });

  it("answers a live caller as before", async () => {
    const setup = await ownerWithWaitingExecution();
    const { token } = setup.owner;
    expect((await callJson(`/api/v1/executions/${setup.executionId}`, { token })).status).toBe(200);
    expect(
      (await callJson(`/api/v1/executions/${setup.executionId}/stream-ticket`, { token, method: "POST" })).status,
    ).toBe(201);
    expect(
      (await callJson(`/api/v1/workflows/${setup.workflowId}/executions`, { token, body: { input: {} } })).status,
    ).toBe(202);
    const approved = await callJson(`/api/v1/executions/${setup.executionId}/steps/gate/approve`, {
      token,
      body: {},
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect((await callJson(`/api/v1/executions/${crypto.randomUUID()}`, { token })).status).toBe(404);
  });
});
