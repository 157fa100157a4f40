import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { query } from "../helpers/db";
import { logsOf, start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";

const stubOf = (id: string) => env.EXECUTIONS.get(env.EXECUTIONS.idFromName(id));

const control = (token: string, id: string, action: string) =>
  callJson(`/api/v1/executions/${id}/${action}`, { method: "POST", token });

describe("execution controls", () => {
  it("cancel stops every later step", async () => {
    const user = await signIn("user");
    const later = await scriptEndpoint([{ status: 200 }]);
    const id = await start(
      user.token,
      await workflowWith(user.token, {
        steps: [
          { id: "wait", type: "delay", seconds: 30 },
          { id: "call", type: "http", request: { url: later.url }, dependsOn: ["wait"] },
        ],
      }),
    );
    await waitForExecution(user.token, id, (e) => stepOf(e, "wait").status === "waiting");
    const res = await control(user.token, id, "cancel");
    expect(res.body).toEqual({ id, status: "cancelled" });
    const done = await waitForExecution(user.token, id);
    expect(done.status).toBe("cancelled");
    expect(done.steps.map((s: any) => [s.stepId, s.status, s.error?.reason])).toEqual([
      ["wait", "skipped", "cancelled"],
      ["call", "skipped", "cancelled"],
    ]);
    expect(await later.requests()).toHaveLength(0);
    expect((await control(user.token, id, "cancel")).status).toBe(409);
    const [audit] = await query<{ action: string; actor_id: string }>(
      "select action, actor_id from audit_logs where resource_id = $1 and action = 'execution.cancel'",
      [id],
    );
    expect(audit).toEqual({ action: "execution.cancel", actor_id: user.id });
  });

  it("pause holds ready steps until resume, while steps in flight finish", async () => {
    const user = await signIn("user");
    // Held after its first chunk until released: the step is surely in flight when it is paused.
    const slow = await scriptEndpoint([{ status: 200, sse: ["a", "b"], holdAfter: 1 }]);
    const next = await scriptEndpoint([{ status: 200 }]);
    const id = await start(
      user.token,
      await workflowWith(user.token, {
        steps: [
          { id: "slow", type: "http", request: { url: slow.url } },
          { id: "next", type: "http", request: { url: next.url }, dependsOn: ["slow"] },
        ],
      }),
    );
    await expect.poll(async () => (await slow.requests()).length).toBe(1);
    expect((await control(user.token, id, "pause")).body.status).toBe("paused");
    await slow.release();
    const paused = await waitForExecution(user.token, id, (e) => stepOf(e, "slow").status === "completed");
    expect(paused.status).toBe("paused");
    // The transition that completed `slow` is the one that would have started `next`: the object
    // holds it pending, nothing dispatched.
    const held = await runInDurableObject(stubOf(id), (_instance, state) =>
      JSON.parse(state.storage.sql.exec<{ data: string }>("select data from steps where step_id = 'next'").one().data),
    );
    expect(held).toMatchObject({ status: "pending", dispatch: null });
    expect(await next.requests()).toHaveLength(0);

    expect((await control(user.token, id, "resume")).body.status).toBe("running");
    const done = await waitForExecution(user.token, id);
    expect(done.status).toBe("completed");
    expect(await next.requests()).toHaveLength(1);
    expect((await control(user.token, id, "resume")).status).toBe(409);
  });

  it("retry reruns only the failed steps and reuses completed outputs", async () => {
    const user = await signIn("user");
    const once = await scriptEndpoint([{ status: 200, body: { token: "abc" } }]);
    const flaky = await scriptEndpoint([{ status: 500 }, { status: 200, body: { ok: true } }]);
    const id = await start(
      user.token,
      await workflowWith(user.token, {
        steps: [
          { id: "first", type: "http", request: { url: once.url } },
          {
            id: "second",
            type: "http",
            request: { url: flaky.url, headers: { "x-token": "{{steps.first.output.body.token}}" } },
            dependsOn: ["first"],
            retry: { maxAttempts: 1 },
          },
          { id: "third", type: "transform", output: "{{steps.second.output.body.ok}}", dependsOn: ["second"] },
        ],
      }),
    );
    const failed = await waitForExecution(user.token, id);
    expect(failed.status).toBe("failed");
    const firstKey = stepOf(failed, "second").idempotencyKey;

    expect((await control(user.token, id, "retry")).body.status).toBe("running");
    const done = await waitForExecution(user.token, id, (e) => e.status === "completed");
    expect(await once.requests()).toHaveLength(1);
    const calls = await flaky.requests();
    expect(calls).toHaveLength(2);
    expect(calls[1].headers["x-token"]).toBe("abc");
    expect(stepOf(done, "second").idempotencyKey).not.toBe(firstKey);
    expect(stepOf(done, "third").output).toBe(true);
    expect((await logsOf(user.token, id)).filter((l) => l.data?.reason === "rerun").map((l) => l.stepId)).toEqual([
      "second",
      "third",
    ]);
    expect((await control(user.token, id, "retry")).status).toBe(409);
  });

  it("hides other users' executions and refuses controls to viewers", async () => {
    const owner = await signIn("user");
    const stranger = await signIn("user");
    const viewer = await signIn("viewer");
    const id = await start(
      owner.token,
      await workflowWith(owner.token, { steps: [{ id: "w", type: "delay", seconds: 30 }] }),
    );
    expect((await callJson(`/api/v1/executions/${id}`, { token: stranger.token })).status).toBe(404);
    expect((await control(stranger.token, id, "cancel")).status).toBe(404);
    expect((await callJson(`/api/v1/executions/${id}`, { token: viewer.token })).status).toBe(200);
    expect((await control(viewer.token, id, "cancel")).status).toBe(403);
    const list = await callJson("/api/v1/executions?limit=200", { token: stranger.token });
    expect(list.body.items.map((e: { id: string }) => e.id)).not.toContain(id);
    await control(owner.token, id, "cancel");
  });
});
