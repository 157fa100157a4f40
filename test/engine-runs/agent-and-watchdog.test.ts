import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { query } from "../helpers/db";
import { start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { createAgent, createVersion, createWorkflow } from "../helpers/fixtures";
import { signIn } from "../helpers/users";

describe("agent steps and the watchdog", () => {
  it("runs an agent step through the runtime's built-in provider and records its tokens", async () => {
    const admin = await signIn("admin");
    const agent = await createAgent(admin.token, { systemPrompt: "You echo." });
    const id = await start(
      admin.token,
      await workflowWith(admin.token, {
        steps: [{ id: "ask", type: "agent", agentId: agent.id, prompt: "Summarize {{input.topic}}" }],
      }),
      { topic: "queues" },
    );
    const done = await waitForExecution(admin.token, id);
    expect(done.status).toBe("completed");
    const step = stepOf(done, "ask");
    expect(step.output).toMatchObject({ text: "Echo: Summarize queues", toolCalls: [], model: "builtin-echo" });
    expect(step.promptTokens).toBeGreaterThan(0);
    expect(step.completionTokens).toBeGreaterThan(0);
    expect(done.promptTokens).toBe(step.promptTokens);
    expect(done.completionTokens).toBe(step.completionTokens);
  });

  it("starts an execution whose hand-off to its Durable Object never happened", async () => {
    const user = await signIn("user");
    const wf = await createWorkflow(user.token);
    const version = await createVersion(user.token, wf.id, {
      steps: [{ id: "t", type: "transform", output: "{{input.x}}" }],
    });
    // A start that committed its row but crashed before reaching the object.
    const [row] = await query<{ id: string }>(
      `insert into executions (workflow_id, workflow_version_id, status, trigger_type, triggered_by, input, created_at, updated_at, next_check_at)
       values ($1, $2, 'pending', 'manual', $3, '{"x": 42}', now() - interval '10 minutes', now() - interval '10 minutes',
               now() - interval '9 minutes 30 seconds') returning id`,
      [wf.id, version.id, user.id],
    );
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const done = await waitForExecution(user.token, row.id);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "t").output).toBe(42);
  });
});
