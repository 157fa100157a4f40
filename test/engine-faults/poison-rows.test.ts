/**
 * Text Postgres cannot hold is normalised in every copy, and a row Postgres still refuses for good
 * is recorded as a sync rejection without blocking the rows after it.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { query } from "../helpers/db";
import { start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { call, callJson } from "../helpers/http";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";

const stubOf = (id: string) => env.EXECUTIONS.get(env.EXECUTIONS.idFromName(id));
const triggers: string[] = [];

afterEach(async () => {
  for (const name of triggers.splice(0)) await dropTrigger(name);
});

/** Dropping a trigger of the partitioned log table can lose a deadlock to the other files' inserts: try again. */
async function dropTrigger(name: string, attempts = 5): Promise<void> {
  try {
    await query(`drop trigger if exists ${name} on execution_logs`);
  } catch (error) {
    if (attempts <= 1 || (error as { code?: string }).code !== "40P01") throw error;
    await dropTrigger(name, attempts - 1);
  }
}

describe("poison rows", () => {
  it("stores an answer with NUL characters and unpaired surrogates the same in the object and in Postgres", async () => {
    const user = await signIn("user");
    const api = await scriptEndpoint([
      {
        status: 200,
        headers: { "content-type": "application/json" },
        body: '{"text":"a\\u0000b\\ud800c","\\u0000key":1}',
      },
    ]);
    const id = await start(
      user.token,
      await workflowWith(user.token, { steps: [{ id: "call", type: "http", request: { url: api.url } }] }),
    );
    const done = await waitForExecution(user.token, id);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "call").output.body).toEqual({ text: "a\uFFFDb\uFFFDc", "\uFFFDkey": 1 });
    const snapshot = (await stubOf(id).snapshot()) as any;
    expect(snapshot.execution.steps[0].output.body).toEqual(stepOf(done, "call").output.body);
  });

  it("records a row Postgres refuses for good as a sync rejection, and the rows after it still arrive", async () => {
    const admin = await signIn("admin");
    const marker = `poison-${crypto.randomUUID().slice(0, 8)}`;
    const trigger = `refuse_${marker.replace(/-/g, "_")}`;
    triggers.push(trigger);
    // A rule the outbox cannot know about: Postgres refuses one log line for good.
    await query(`create or replace function ${trigger}() returns trigger language plpgsql as $$
      begin
        if new.event = 'step.failed' and new.message like '%${marker}%' then raise exception 'refused by a rule' using errcode = '22023'; end if;
        return new;
      end $$`);
    await query(`create trigger ${trigger} before insert on execution_logs for each row execute function ${trigger}()`);
    const id = await start(
      admin.token,
      await workflowWith(admin.token, {
        steps: [
          { id: "review", type: "approval" },
          { id: "after", type: "transform", output: "never", dependsOn: ["review"] },
        ],
      }),
    );
    await waitForExecution(admin.token, id, (e) => stepOf(e, "review").status === "waiting");
    const reject = await callJson(`/api/v1/executions/${id}/steps/review/reject`, {
      token: admin.token,
      body: { comment: marker },
    });
    expect(reject.status).toBe(200);

    const done = await waitForExecution(
      admin.token,
      id,
      (e) => e.status === "failed" && e.syncError !== null && stepOf(e, "after").status === "skipped",
    );
    expect(done.syncError).toMatchObject({ target: "log", pgCode: "22023" });
    expect(stepOf(done, "review")).toMatchObject({ status: "failed", error: { reason: "rejected" } });
    expect(stepOf(done, "after")).toMatchObject({ status: "skipped" });
    // The execution's row says failed with the refused event's transaction; the lines after it follow.
    await expect
      .poll(async () => {
        const logs = await query<{ event: string }>("select event from execution_logs where execution_id = $1", [id]);
        return logs.map((l) => l.event);
      })
      .toContain("execution.failed");
    const rejections = await query<{ target: string }>("select target from sync_rejections where execution_id = $1", [
      id,
    ]);
    expect(rejections.map((r) => r.target)).toEqual(["log"]);
    const text = await (await call("/metrics", { token: admin.token })).text();
    expect(text).toMatch(/^ipa_sync_rejections_total [1-9]\d*$/m);
  });
});
