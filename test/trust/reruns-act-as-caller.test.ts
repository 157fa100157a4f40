/**
 * A rerun or retry acts as whoever asks for it: its workflow tools and children authorise as the
 * requester, it counts against the requester's active-executions quota, and it passes the
 * workflow's concurrency admission like a start (refused with 409 when the key is full).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { permissionsFor } from "../../src/auth/permissions";
import type { AuthenticatedUser } from "../../src/auth/principal";
import { rerunExecution } from "../../src/services/execution-rerun";
import { QuotaExceededError } from "../../src/services/quotas";
import { query, withDb } from "../helpers/db";
import { start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { addTool, completion, fakeModelAgent } from "../helpers/openai";
import { signIn, type TestUser } from "../helpers/users";

const audit = { actorId: null, actorEmail: "rerun-test", ip: null, userAgent: null, requestId: null };

const principal = (user: TestUser): AuthenticatedUser => ({
  id: user.id,
  email: user.email,
  name: user.username,
  roles: user.roles,
  permissions: permissionsFor(user.roles),
  jti: crypto.randomUUID(),
  sessionId: crypto.randomUUID(),
  credential: "session",
  scopes: null,
});

const rerun = (token: string, id: string, body: Record<string, unknown>) =>
  callJson(`/api/v1/executions/${id}/rerun`, { token, body });

describe("reruns and retries act as the caller", () => {
  it("authorise a rerun's workflow tools as the requester, not as whoever started the execution", async () => {
    const [admin, owner] = await Promise.all([signIn("admin"), signIn("user")]);
    // A workflow of the admin's, which the owner may not start.
    const adminOnly = await workflowWith(admin.token, { steps: [{ id: "t", type: "transform", output: 1 }] });
    const { endpoint, agent } = await fakeModelAgent(admin.token, [
      completion({ toolCalls: [{ name: "run_private", arguments: {} }] }),
      completion({ content: "ran it" }),
      completion({ toolCalls: [{ name: "run_private", arguments: {} }] }),
      completion({ content: "could not" }),
    ]);
    await addTool(admin.token, agent.id, {
      toolName: "run_private",
      toolType: "workflow",
      configuration: { workflowId: adminOnly, parameters: { type: "object", properties: {} } },
    });
    const ownersWorkflow = await workflowWith(owner.token, {
      steps: [{ id: "ask", type: "agent", agentId: agent.id, prompt: "go" }],
    });
    // The admin starts the owner's workflow: its tool may start the admin's workflow.
    const id = await start(admin.token, ownersWorkflow);
    expect((await waitForExecution(admin.token, id, undefined, 30_000)).status).toBe("completed");
    expect(await query("select id from executions where workflow_id = $1", [adminOnly])).toHaveLength(1);

    // The owner reruns it: now the tool call is the owner's, and the owner may not start it.
    expect((await rerun(owner.token, id, { fromStep: "ask" })).status).toBe(202);
    const done = await waitForExecution(owner.token, id, (e) => e.run === 2 && e.status === "completed", 30_000);
    expect(stepOf(done, "ask").output.text).toBe("could not");
    const last = JSON.parse((await endpoint.requests())[3].body);
    expect(last.messages.find((m: { role: string }) => m.role === "tool").content).toMatch(/forbidden/);
    expect(await query("select id from executions where workflow_id = $1", [adminOnly])).toHaveLength(1);
    const [row] = await query<{ acting_user_id: string }>("select acting_user_id from executions where id = $1", [id]);
    expect(row.acting_user_id).toBe(owner.id);
  });

  it("count a rerun against the requester's active-executions quota (429 when it is reached)", async () => {
    const owner = await signIn("user");
    const gated = await workflowWith(owner.token, { steps: [{ id: "gate", type: "approval" }] });
    const quick = await workflowWith(owner.token, { steps: [{ id: "t", type: "transform", output: 1 }] });
    const ended = await start(owner.token, quick);
    await waitForExecution(owner.token, ended);
    await start(owner.token, gated);
    const quotaEnv = { ...env, QUOTA_ACTIVE_EXECUTIONS_PER_USER: "1" };
    await expect(
      withDb(({ db }) => rerunExecution(db, quotaEnv, principal(owner), audit, ended, { fromStep: "t" })),
    ).rejects.toBeInstanceOf(QuotaExceededError);
    const [row] = await query<{ run: number; status: string }>("select run, status from executions where id = $1", [
      ended,
    ]);
    expect(row).toEqual({ run: 1, status: "completed" });
    // Under a quota with room, the same rerun goes ahead.
    const roomy = { ...env, QUOTA_ACTIVE_EXECUTIONS_PER_USER: "2" };
    await expect(
      withDb(({ db }) => rerunExecution(db, roomy, principal(owner), audit, ended, { fromStep: "t" })),
    ).resolves.toMatchObject({ id: ended });
  });

  it("pass concurrency admission: a rerun or retry into a full key is refused with 409 until a slot frees", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, {
      concurrency: { limit: 1 },
      steps: [
        { id: "gate", type: "approval" },
        { id: "fail", type: "transform", output: "{{input.missing}}", dependsOn: ["gate"] },
      ],
    });
    const first = await start(owner.token, workflowId);
    await waitForExecution(owner.token, first, (e) => stepOf(e, "gate").status === "waiting");
    await callJson(`/api/v1/executions/${first}/steps/gate/approve`, { token: owner.token, body: {} });
    expect((await waitForExecution(owner.token, first)).status).toBe("failed");
    const holder = await start(owner.token, workflowId);
    await waitForExecution(owner.token, holder, (e) => e.status === "running");

    const refused = await rerun(owner.token, first, { fromStep: "gate" });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("CONCURRENCY_LIMIT_REACHED");
    const retried = await callJson(`/api/v1/executions/${first}/retry`, { method: "POST", token: owner.token });
    expect(retried.status).toBe(409);
    expect(retried.body.error.code).toBe("CONCURRENCY_LIMIT_REACHED");
    expect((await callJson(`/api/v1/executions/${first}`, { token: owner.token })).body).toMatchObject({
      status: "failed",
      run: 1,
    });

    await callJson(`/api/v1/executions/${holder}/cancel`, { method: "POST", token: owner.token });
    await waitForExecution(owner.token, holder);
    expect((await rerun(owner.token, first, { fromStep: "gate" })).status).toBe(202);
    // Counted at once: a start now queues behind the rerun's run.
    const queued = await start(owner.token, workflowId);
    expect((await callJson(`/api/v1/executions/${queued}`, { token: owner.token })).body.status).toBe("queued");
  });
});
