import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/client";
import type { Snapshot } from "../../src/durable-objects/execution/types";
import { start, workflowWith } from "../helpers/executions";
import { createVersion, createWorkflow } from "../helpers/fixtures";
import { callJson } from "../helpers/http";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";
import { until } from "../helpers/waits";

/** `down` refuses connections; `stall` takes them and never answers (a half-open network), even after `up`. */
const relay = (state: "up" | "down" | "stall") => fetch(`${env.TEST_OUTAGE_CONTROL_URL}/${state}`, { method: "POST" });

/** Reads rows through a path the outage does not cut. */
async function rows<T>(text: string, params: unknown[]): Promise<T[]> {
  const session = openDatabase({ connectionString: env.DATABASE_URL, wsProxy: env.TEST_UNCUT_WS_PROXY });
  try {
    return (await session.pool.query(text, params)).rows as T[];
  } finally {
    await session.close();
  }
}

describe("a Postgres outage mid-run", () => {
  afterEach(async () => {
    await relay("up");
  });

  it("delays the rows but the execution finishes, and every row arrives once Postgres is back", async () => {
    const user = await signIn("user");
    const slow = await scriptEndpoint([{ status: 200, delayMs: 700, body: { v: 7 } }]);
    const id = await start(
      user.token,
      await workflowWith(user.token, {
        steps: [
          { id: "call", type: "http", request: { url: slow.url } },
          {
            id: "double",
            type: "transform",
            output: "{{steps.call.output.body.v}}{{steps.call.output.body.v}}",
            dependsOn: ["call"],
          },
          { id: "pause", type: "delay", seconds: 1, dependsOn: ["double"] },
          { id: "done", type: "transform", output: { result: "{{steps.double.output}}" }, dependsOn: ["pause"] },
        ],
      }),
    );
    await relay("down");
    const stub = env.EXECUTIONS.get(env.EXECUTIONS.idFromName(id));

    // The Durable Object finishes on its own while Postgres is unreachable.
    const finished = await until(
      () => stub.snapshot() as Promise<Snapshot>,
      (s) => s.execution.status === "completed",
    );
    const stale = await rows<{ status: string }>("select status from executions where id = $1", [id]);
    expect(stale[0].status).not.toBe("completed");

    await relay("up");
    const [row] = await until(
      () =>
        rows<{ status: string; output: unknown; last_seq: string }>(
          "select status, output, last_seq from executions where id = $1",
          [id],
        ),
      (r) => r[0]?.status === "completed",
    );
    expect(row.output).toEqual({ done: { result: "77" } });
    expect(Number(row.last_seq)).toBe(finished.seq);
    const steps = await rows<{ step_id: string; status: string }>(
      "select step_id, status from execution_steps where execution_id = $1 order by step_id",
      [id],
    );
    expect(steps.map((s) => [s.step_id, s.status])).toEqual([
      ["call", "completed"],
      ["done", "completed"],
      ["double", "completed"],
      ["pause", "completed"],
    ]);
    const logs = await rows<{ seq: string }>("select seq from execution_logs where execution_id = $1 order by seq", [
      id,
    ]);
    expect(logs.map((l) => Number(l.seq))).toEqual(Array.from({ length: finished.seq }, (_, i) => i + 1));
    expect(await slow.requests()).toHaveLength(1);
  });
});

describe("secrets during a Postgres outage", () => {
  afterEach(async () => {
    await relay("up");
  });

  it("are never sent from an older copy: the attempt fails for a retry and sends the current value once Postgres answers", async () => {
    const user = await signIn("user");
    const target = await scriptEndpoint([{ status: 200 }]);
    const wf = await createWorkflow(user.token);
    const put = (value: string) =>
      callJson(`/api/v1/workflows/${wf.id}/secrets/ROTATED_KEY`, { method: "PUT", token: user.token, body: { value } });
    expect((await put("revoked-value")).status).toBe(201);
    await createVersion(user.token, wf.id, {
      steps: [
        { id: "pause", type: "delay", seconds: 1 },
        {
          id: "call",
          type: "http",
          dependsOn: ["pause"],
          request: { url: target.url, headers: { "x-key": "{{secrets.ROTATED_KEY}}" } },
          retry: { maxAttempts: 10, initialDelayMs: 1000, factor: 1 },
        },
      ],
    });
    const id = await start(user.token, wf.id);
    // The old value is rotated away, then Postgres goes dark before the step sends.
    expect((await put("current-value")).status).toBe(200);
    await relay("down");
    await new Promise((resolve) => setTimeout(resolve, 9_000));
    expect(await target.requests()).toEqual([]);
    await relay("up");
    await until(
      () => target.requests(),
      (requests) => requests.length > 0,
    );
    expect((await target.requests()).map((r) => r.headers["x-key"])).toEqual(["current-value"]);
    const failed = await until(
      () =>
        rows<{ data: { error?: { reason?: string } } }>(
          "select data from execution_logs where execution_id = $1 and event = 'step.waiting' and step_id = 'call'",
          [id],
        ),
      (found) => found.length > 0,
    );
    expect(failed[0].data.error?.reason).toBe("secrets_unavailable");
  }, 90_000);
});

describe("a Postgres that takes connections and never answers", () => {
  afterEach(async () => {
    await relay("up");
  });

  it("gives up the outbox batch after its deadline, answers the watchdog within its bound, and delivers every row once Postgres answers", async () => {
    const user = await signIn("user");
    const slow = await scriptEndpoint([{ status: 200, delayMs: 1_500, body: { v: 1 } }]);
    const id = await start(
      user.token,
      await workflowWith(user.token, { steps: [{ id: "call", type: "http", request: { url: slow.url } }] }),
    );
    await relay("stall");
    const stub = env.EXECUTIONS.get(env.EXECUTIONS.idFromName(id));
    const finished = await until(
      () => stub.snapshot() as Promise<Snapshot>,
      (s) => s.execution.status === "completed",
    );

    // The drain hangs on a connection that never answers; the watchdog's visit does not wait for it.
    const visited = Date.now();
    const report = (await stub.watchdog()) as { unflushed: number };
    expect(Date.now() - visited).toBeLessThan(15_000);
    expect(report.unflushed).toBeGreaterThan(0);

    // The hung connection stays hung after Postgres is back: only a drain that gave it up, and
    // tried again on a new one, brings the rows.
    await relay("up");
    const [row] = await until(
      () => rows<{ status: string; last_seq: string }>("select status, last_seq from executions where id = $1", [id]),
      (r) => r[0]?.status === "completed",
      60_000,
    );
    expect(Number(row.last_seq)).toBe(finished.seq);
    expect(await slow.requests()).toHaveLength(1);
  }, 120_000);
});
