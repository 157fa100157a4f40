/**
 * The outbox coalesces (docs/engine.md): transitions that happen while a flush cannot land reach Postgres
 * together. Postgres is cut while a burst of steps runs in the object, so the burst waits whole;
 * once it is back, one drain writes it. Each flush is one transaction, so the distinct transaction
 * ids (xmin) of the burst's log rows count the flushes that wrote them.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/client";
import { start, workflowWith } from "../helpers/executions";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";

const relay = (state: "up" | "down") => fetch(`${env.TEST_OUTAGE_CONTROL_URL}/${state}`, { method: "POST" });
const stubOf = (id: string) => env.EXECUTIONS.get(env.EXECUTIONS.idFromName(id));

/** Reads rows through a path the outage does not cut. */
async function rows<T>(text: string, params: unknown[]): Promise<T[]> {
  const session = openDatabase({ connectionString: env.DATABASE_URL, wsProxy: env.TEST_UNCUT_WS_PROXY });
  try {
    return (await session.pool.query(text, params)).rows as T[];
  } finally {
    await session.close();
  }
}

const objectStatus = (id: string) =>
  runInDurableObject(stubOf(id), (_instance, state) => {
    const row = state.storage.sql
      .exec<{ value: string }>("select value from meta where key = 'execution'")
      .toArray()[0];
    return row ? (JSON.parse(row.value) as { status: string }).status : null;
  });

describe("outbox flushes", () => {
  afterEach(async () => {
    await relay("up");
  });

  it("writes a burst of transitions that waited for Postgres in one transaction", async () => {
    const user = await signIn("user");
    const target = await scriptEndpoint([{ status: 200, body: { ok: true } }]);
    const steps = [
      { id: "pause", type: "delay", seconds: 1 },
      { id: "a", type: "http", request: { url: target.url }, dependsOn: ["pause"] },
      { id: "b", type: "http", request: { url: target.url }, dependsOn: ["a"] },
      { id: "c", type: "http", request: { url: target.url }, dependsOn: ["b"] },
      ...[1, 2, 3, 4].map((n) => ({ id: `t${n}`, type: "transform", output: n, dependsOn: ["c"] })),
    ];
    const id = await start(user.token, await workflowWith(user.token, { steps }));
    await relay("down");
    await expect.poll(() => objectStatus(id), { timeout: 30_000 }).toBe("completed");
    const [{ before }] = await rows<{ before: number }>(
      "select coalesce(max(seq), 0)::int as before from execution_logs where execution_id = $1",
      [id],
    );
    await relay("up");
    await expect
      .poll(
        async () => (await rows<{ status: string }>("select status from executions where id = $1", [id]))[0]?.status,
        {
          timeout: 60_000,
        },
      )
      .toBe("completed");
    const [burst] = await rows<{ lines: number; flushes: number }>(
      `select count(*)::int as lines, count(distinct xmin::text)::int as flushes
       from execution_logs where execution_id = $1 and seq > $2`,
      [id, before],
    );
    expect(burst.lines).toBeGreaterThan(15);
    expect(burst.flushes).toBe(1);
  }, 120_000);
});
