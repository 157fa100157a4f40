/** Nothing waits forever: lost notifications, failed hand-offs and ended executions all resolve. */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/crypto/encoding";
import { query } from "../helpers/db";
import { start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { addTool, completion, fakeModelAgent } from "../helpers/openai";
import { connect, ticketFor } from "../helpers/stream";
import { signIn } from "../helpers/users";

const stubOf = (id: string) => env.EXECUTIONS.get(env.EXECUTIONS.idFromName(id));

/** Makes the object's timers of `kind` due now and runs its alarm. */
async function fireTimers(id: string, kind: string): Promise<void> {
  await runInDurableObject(stubOf(id), async (_instance, state) => {
    state.storage.sql.exec("update typed_timers set due = ? where key like ?", Date.now() - 1, `${kind}%`);
    await state.storage.setAlarm(Date.now() - 1);
  });
  await runDurableObjectAlarm(stubOf(id));
}

describe("nothing waits forever", () => {
  it("resumes an agent step whose child's notification was lost, by asking the child", async () => {
    const admin = await signIn("admin");
    const childWorkflowId = await workflowWith(admin.token, { steps: [{ id: "gate", type: "approval" }] });
    const { agent } = await fakeModelAgent(admin.token, [
      completion({ toolCalls: [{ name: "run_child", arguments: {} }] }),
      completion({ content: "The child is done." }),
    ]);
    await addTool(admin.token, agent.id, {
      toolName: "run_child",
      toolType: "workflow",
      configuration: { workflowId: childWorkflowId },
    });
    const parent = await start(
      admin.token,
      await workflowWith(admin.token, { steps: [{ id: "ask", type: "agent", agentId: agent.id, prompt: "go" }] }),
    );
    await waitForExecution(admin.token, parent, (e) => stepOf(e, "ask").waiting?.reason === "children");
    const [child] = await query<{ id: string }>("select id from executions where parent_execution_id = $1", [parent]);
    await waitForExecution(admin.token, child.id, (e) => stepOf(e, "gate").status === "waiting");
    // The child forgets its parent: its notification will never be sent.
    await runInDurableObject(stubOf(child.id), (_instance, state) => {
      state.storage.sql.exec(
        "update meta set value = json_set(value, '$.parent', json('null')) where key = 'execution'",
      );
    });
    await callJson(`/api/v1/executions/${child.id}/steps/gate/approve`, { token: admin.token, method: "POST" });
    await waitForExecution(admin.token, child.id);

    await fireTimers(parent, "children");
    const done = await waitForExecution(admin.token, parent, undefined, 30_000);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "ask").output.text).toBe("The child is done.");
  });

  it("hands off a start whose hand-off failed when the client replays it with its Idempotency-Key", async () => {
    const user = await signIn("user");
    const workflowId = await workflowWith(user.token, {
      steps: [{ id: "t", type: "transform", output: "{{input.n}}" }],
    });
    const [version] = await query<{ id: string }>("select current_version_id as id from workflows where id = $1", [
      workflowId,
    ]);
    // What a start leaves when it committed its rows and died before reaching the object.
    const input = { n: 7 };
    const requestHash = await sha256Hex(JSON.stringify({ workflowId, version: null, input }));
    const [row] = await query<{ id: string }>(
      `insert into executions (workflow_id, workflow_version_id, status, trigger_type, triggered_by, input)
       values ($1, $2, 'pending', 'manual', $3, $4) returning id`,
      [workflowId, version.id, user.id, JSON.stringify(input)],
    );
    await query(
      "insert into idempotency_keys (user_id, key, request_hash, execution_id, expires_at) values ($1, 'replay-me', $2, $3, now() + interval '1 day')",
      [user.id, requestHash, row.id],
    );
    const replay = await callJson(`/api/v1/workflows/${workflowId}/executions`, {
      token: user.token,
      body: { input },
      headers: { "idempotency-key": "replay-me" },
    });
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ id: row.id, status: "running" });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(stepOf(await waitForExecution(user.token, row.id), "t").output).toBe(7);
  });

  it("frees an ended execution's storage once Postgres has every row, and still streams and reruns it", async () => {
    const user = await signIn("user");
    const id = await start(
      user.token,
      await workflowWith(user.token, {
        steps: [
          { id: "a", type: "transform", output: "{{input.v}}" },
          { id: "b", type: "transform", output: "{{steps.a.output}}!", dependsOn: ["a"] },
        ],
      }),
      { v: "x" },
    );
    const done = await waitForExecution(user.token, id);
    // Wait for the last flush; the retire timer is armed only when everything is in Postgres.
    for (let i = 0; i < 100; i++) {
      const armed = await runInDurableObject(
        stubOf(id),
        (_instance, state) =>
          state.storage.sql.exec("select count(*) as n from typed_timers where key = 'retire'").one().n,
      );
      if (armed === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await fireTimers(id, "retire");
    const left = await runInDurableObject(stubOf(id), (_instance, state) => ({
      events: state.storage.sql.exec("select count(*) as n from events").one().n,
      steps: state.storage.sql.exec("select count(*) as n from steps").one().n,
    }));
    expect(left).toEqual({ events: 0, steps: 0 });

    const viewer = await connect(id, await ticketFor(user.token, id));
    const snapshot = await viewer.waitFor((m) => m.type === "snapshot");
    expect(snapshot.execution).toMatchObject({ id, status: "completed" });
    expect(snapshot.seq).toBeGreaterThan(0);
    const resumed = await connect(id, await ticketFor(user.token, id), 0);
    await resumed.closed;
    expect(resumed.messages.filter((m) => m.type === "event")).toHaveLength(snapshot.seq);

    const rerun = await callJson(`/api/v1/executions/${id}/rerun`, { token: user.token, body: { fromStep: "b" } });
    expect(rerun.status).toBe(202);
    const again = await waitForExecution(user.token, id, (e) => e.run === 2 && e.status === "completed");
    expect(stepOf(again, "a")).toMatchObject({ output: "x", attempt: 1 });
    expect(stepOf(again, "b")).toMatchObject({ output: "x!", attempt: 2, run: 2 });
    expect(stepOf(done, "b").output).toBe("x!");
  });
});
