/**
 * Nothing strands a start: a child cancelled while it was queued tells the parent step waiting
 * for it, even when that notice is lost; and a child that would queue behind a slot its own
 * parent holds (a limited workflow whose agent starts itself) is refused, not left to wait for ever.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { query } from "../helpers/db";
import { start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { addTool, completion, fakeModelAgent } from "../helpers/openai";
import { signIn } from "../helpers/users";

const stubOf = (id: string) => env.EXECUTIONS.get(env.EXECUTIONS.idFromName(id));

async function childOf(parentId: string): Promise<{ id: string; status: string }> {
  for (let i = 0; i < 100; i++) {
    const [child] = await query<{ id: string; status: string }>(
      "select id, status from executions where parent_execution_id = $1",
      [parentId],
    );
    if (child) return child;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("no child started");
}

describe("admission holes", () => {
  it("tells the parent when its child is cancelled while queued, and its poll finds it if that is lost", async () => {
    const admin = await signIn("admin");
    // The child's workflow holds one slot with an execution waiting for an event.
    const limited = await workflowWith(admin.token, {
      concurrency: { limit: 1 },
      steps: [{ id: "hold", type: "event", event: "go", timeoutSeconds: 600 }],
    });
    const holder = await start(admin.token, limited);
    await waitForExecution(admin.token, holder, (e) => stepOf(e, "hold").status === "waiting");
    for (const lose of [false, true]) {
      const { agent } = await fakeModelAgent(admin.token, [
        completion({ toolCalls: [{ name: "run_limited", arguments: {} }] }),
        completion({ content: "the child did not run" }),
      ]);
      await addTool(admin.token, agent.id, {
        toolName: "run_limited",
        toolType: "workflow",
        configuration: { workflowId: limited, parameters: { type: "object", properties: {} } },
      });
      const parent = await start(
        admin.token,
        await workflowWith(admin.token, { steps: [{ id: "ask", type: "agent", agentId: agent.id, prompt: "go" }] }),
      );
      await waitForExecution(admin.token, parent, (e) => stepOf(e, "ask").waiting?.reason === "children");
      const child = await childOf(parent);
      expect(child.status).toBe("queued");
      if (lose) {
        // The notice is lost: the parent's object cannot be reached while the child is cancelled.
        await query("update executions set parent_step_id = null where id = $1", [child.id]);
      }
      const cancelled = await callJson(`/api/v1/executions/${child.id}/cancel`, { method: "POST", token: admin.token });
      expect(cancelled.body).toMatchObject({ status: "cancelled" });
      if (lose) {
        // Its minute poll asks the child's object (never started), then the child's row.
        await runInDurableObject(stubOf(parent), (_instance, state) =>
          state.storage.sql.exec("update typed_timers set due = 0 where key like 'children:%'"),
        );
        await runDurableObjectAlarm(stubOf(parent));
      }
      const done = await waitForExecution(admin.token, parent, undefined, 30_000);
      expect(done.status, `lost notice: ${lose}`).toBe("completed");
      expect(stepOf(done, "ask").output.text).toBe("the child did not run");
    }
  });

  it("refuses a child that would queue behind a slot its own parent holds (a limited workflow starting itself)", async () => {
    const admin = await signIn("admin");
    const { endpoint, agent } = await fakeModelAgent(admin.token, [
      completion({ toolCalls: [{ name: "again", arguments: {} }] }),
      completion({ content: "could not start myself" }),
    ]);
    const workflowId = await workflowWith(admin.token, {
      concurrency: { limit: 1 },
      steps: [{ id: "ask", type: "agent", agentId: agent.id, prompt: "go" }],
    });
    await addTool(admin.token, agent.id, {
      toolName: "again",
      toolType: "workflow",
      configuration: { workflowId, parameters: { type: "object", properties: {} } },
    });
    const id = await start(admin.token, workflowId);
    const done = await waitForExecution(admin.token, id, undefined, 30_000);
    expect(done.status).toBe("completed");
    const second = JSON.parse((await endpoint.requests())[1].body);
    expect(second.messages.find((m: { role: string }) => m.role === "tool").content).toContain(
      "held by an execution waiting for this one",
    );
    expect(await query("select id from executions where parent_execution_id = $1", [id])).toEqual([]);
  });
});
