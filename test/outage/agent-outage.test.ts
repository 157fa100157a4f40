/** Agent steps need nothing from Postgres while they run: an outage delays rows, never fails the run. */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/client";
import type { Snapshot } from "../../src/durable-objects/execution/types";
import { start, workflowWith } from "../helpers/executions";
import { createAgent } from "../helpers/fixtures";
import { addTool, completion, fakeModelAgent } from "../helpers/openai";
import { signIn } from "../helpers/users";
import { until } from "../helpers/waits";

const relay = (state: "up" | "down") => fetch(`${env.TEST_OUTAGE_CONTROL_URL}/${state}`, { method: "POST" });

async function rows<T>(text: string, params: unknown[]): Promise<T[]> {
  const session = openDatabase({ connectionString: env.DATABASE_URL, wsProxy: env.TEST_UNCUT_WS_PROXY });
  try {
    return (await session.pool.query(text, params)).rows as T[];
  } finally {
    await session.close();
  }
}

describe("an agent step during a Postgres outage", () => {
  afterEach(async () => {
    await relay("up");
  });

  it("answers from the agent resolved at start, and its rows and tokens arrive once Postgres is back", async () => {
    const admin = await signIn("admin");
    const agent = await createAgent(admin.token, { systemPrompt: "You echo." });
    const id = await start(
      admin.token,
      await workflowWith(admin.token, {
        steps: [
          { id: "wait", type: "delay", seconds: 1 },
          { id: "ask", type: "agent", agentId: agent.id, prompt: "Say {{input.word}}", dependsOn: ["wait"] },
        ],
      }),
      { word: "outage" },
    );
    await relay("down");
    const stub = env.EXECUTIONS.get(env.EXECUTIONS.idFromName(id));
    const finished = await until(
      () => stub.snapshot() as Promise<Snapshot>,
      (s) => s.execution.status !== "running",
    );
    expect(finished.execution.status).toBe("completed");
    const answer = finished.execution.steps.find((step) => step.stepId === "ask");
    expect(answer).toMatchObject({ status: "completed", attempt: 1, output: { text: "Echo: Say outage" } });

    await relay("up");
    const [row] = await until(
      () =>
        rows<{ status: string; prompt_tokens: number }>("select status, prompt_tokens from executions where id = $1", [
          id,
        ]),
      (r) => r[0]?.status === "completed",
    );
    expect(row.prompt_tokens).toBe(finished.execution.promptTokens);
    expect(row.prompt_tokens).toBeGreaterThan(0);
  });

  it("hands a workflow tool's attempt back while it cannot start its child, and starts it once Postgres is back", async () => {
    const admin = await signIn("admin");
    const child = await workflowWith(admin.token, { steps: [{ id: "t", type: "transform", output: 7 }] });
    const { agent } = await fakeModelAgent(admin.token, [
      completion({ toolCalls: [{ name: "run_child", arguments: {} }] }),
      completion({ content: "the child answered" }),
    ]);
    await addTool(admin.token, agent.id, {
      toolName: "run_child",
      toolType: "workflow",
      configuration: { workflowId: child, parameters: { type: "object", properties: {} } },
    });
    const id = await start(
      admin.token,
      await workflowWith(admin.token, {
        steps: [
          { id: "pause", type: "delay", seconds: 1 },
          { id: "ask", type: "agent", agentId: agent.id, prompt: "go", dependsOn: ["pause"] },
        ],
      }),
    );
    await relay("down");
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    await relay("up");
    const [row] = await until(
      () => rows<{ status: string }>("select status from executions where id = $1", [id]),
      (found) => found[0]?.status === "completed",
      90_000,
    );
    expect(row.status).toBe("completed");
    const lines = await rows<{ data: { reason?: string } }>(
      "select data from execution_logs where execution_id = $1 and step_id = 'ask' order by seq",
      [id],
    );
    const reasons = lines.map((line) => line.data?.reason);
    expect(reasons).toContain("attempt_handed_back");
    expect(reasons).not.toContain("dead_lettered");
    expect(await rows("select id from executions where parent_execution_id = $1", [id])).toHaveLength(1);
  }, 150_000);
});
