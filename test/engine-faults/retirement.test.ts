/**
 * Retirement and restore keep their promises: an ended execution's object frees its storage a day
 * after Postgres has every row (its timer armed by the final flush, not by the test); one brought
 * back and left alone retires again; a rerun is not retired mid-run; restored numbering follows the
 * newest log row Postgres holds; and an event delivery's idempotency key outlives the storage.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RETIRE_AFTER_MS } from "../../src/durable-objects/execution/flusher";
import { query } from "../helpers/db";
import { logsOf, start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { signIn } from "../helpers/users";

const stubOf = (id: string) => env.EXECUTIONS.get(env.EXECUTIONS.idFromName(id));

const timersOf = (id: string) =>
  runInDurableObject(stubOf(id), (_instance, state) =>
    state.storage.sql.exec<{ key: string; due: number }>("select key, due from typed_timers").toArray(),
  );

async function retireNow(id: string): Promise<void> {
  await expect.poll(async () => (await timersOf(id)).some((t) => t.key === "retire"), { timeout: 20_000 }).toBe(true);
  await runInDurableObject(stubOf(id), async (_instance, state) => {
    state.storage.sql.exec("update typed_timers set due = ? where key = 'retire'", Date.now() - 1);
    await state.storage.setAlarm(Date.now() - 1);
  });
  await runDurableObjectAlarm(stubOf(id));
  const retired = await runInDurableObject(
    stubOf(id),
    (_instance, state) => state.storage.sql.exec("select count(*) as n from meta where key = 'retired'").one().n,
  );
  expect(retired).toBe(1);
}

describe("retirement", () => {
  it("is armed by the final flush a day after the end, and re-armed for an object brought back and left alone", async () => {
    const user = await signIn("user");
    const id = await start(
      user.token,
      await workflowWith(user.token, { steps: [{ id: "t", type: "transform", output: 1 }] }),
    );
    const done = await waitForExecution(user.token, id);
    await expect
      .poll(async () => (await timersOf(id)).find((t) => t.key === "retire")?.due ?? 0, { timeout: 20_000 })
      .toBeGreaterThan(Date.parse(done.completedAt) + RETIRE_AFTER_MS - 60_000);
    await retireNow(id);
    // A control on the ended execution brings its object back, is refused, and emits nothing.
    const refused = await callJson(`/api/v1/executions/${id}/cancel`, { method: "POST", token: user.token });
    expect(refused.status).toBe(409);
    const timers = await timersOf(id);
    expect(timers.find((t) => t.key === "retire")?.due).toBeGreaterThan(Date.now() + RETIRE_AFTER_MS - 60_000);
  });

  it("is not left armed for a rerun, and numbers the rerun's events after the newest log row", async () => {
    const user = await signIn("user");
    const id = await start(user.token, await workflowWith(user.token, { steps: [{ id: "gate", type: "approval" }] }));
    await waitForExecution(user.token, id, (e) => stepOf(e, "gate").status === "waiting");
    await callJson(`/api/v1/executions/${id}/steps/gate/approve`, { token: user.token, body: {} });
    await waitForExecution(user.token, id);
    await retireNow(id);
    // The execution row lags its logs (its last write was refused, say).
    const [{ last }] = await query<{ last: number }>(
      "select max(seq)::int as last from execution_logs where execution_id = $1",
      [id],
    );
    await query("update executions set last_seq = $2 where id = $1", [id, last - 2]);

    expect(
      (await callJson(`/api/v1/executions/${id}/rerun`, { token: user.token, body: { fromStep: "gate" } })).status,
    ).toBe(202);
    await waitForExecution(user.token, id, (e) => e.run === 2 && stepOf(e, "gate").status === "waiting");
    expect((await timersOf(id)).map((t) => t.key)).not.toContain("retire");
    const lines = await logsOf(user.token, id);
    const seqs = lines.map((line) => line.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(lines.filter((line) => line.event === "step.waiting")).toHaveLength(2);
    expect(Math.min(...lines.filter((line) => line.data?.run === 2).map((line) => line.seq))).toBeGreaterThan(last);
  });

  it("keeps an event delivery's idempotency key: its replay after a rerun does not complete the new wait", async () => {
    const user = await signIn("user");
    const id = await start(
      user.token,
      await workflowWith(user.token, { steps: [{ id: "e", type: "event", event: "paid" }] }),
    );
    const send = () =>
      callJson(`/api/v1/executions/${id}/events/paid`, {
        token: user.token,
        body: { payload: { n: 1 } },
        headers: { "idempotency-key": "paid-1" },
      });
    await waitForExecution(user.token, id, (e) => stepOf(e, "e").status === "waiting");
    expect((await send()).body).toMatchObject({ delivered: true });
    await waitForExecution(user.token, id);
    await retireNow(id);
    await callJson(`/api/v1/executions/${id}/rerun`, { token: user.token, body: { fromStep: "e" } });
    await waitForExecution(user.token, id, (e) => e.run === 2 && stepOf(e, "e").status === "waiting");
    // The sender's retry answers as the first delivery did, and delivers nothing new.
    expect((await send()).body).toMatchObject({ delivered: true });
    // The object is the truth at once (Postgres may lag a flush behind).
    const step = await runInDurableObject(stubOf(id), (_instance, state) =>
      JSON.parse(state.storage.sql.exec<{ data: string }>("select data from steps where step_id = 'e'").one().data),
    );
    expect(step).toMatchObject({ status: "waiting", run: 2 });
  });
});
