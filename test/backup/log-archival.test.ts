import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/client";
import { partitionName } from "../../src/db/partitions";
import { archiveKey, archiveLogs } from "../../src/logs/archive";
import { query } from "../helpers/db";
import { logsOf, start, waitForExecution, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { signIn } from "../helpers/users";

const flow = {
  steps: [
    { id: "a", type: "transform", output: 1 },
    { id: "b", type: "transform", output: 2, dependsOn: ["a"] },
  ],
};

/**
 * An execution whose log lines all lie in a month that ended more than the 30-day cut-off ago
 * (75 days back is always in one), its partition created as a restore or a late write would find it.
 */
async function oldExecution(token: string, workflowId: string, daysAgo = 75) {
  const id = await start(token, workflowId);
  await waitForExecution(token, id);
  const month = new Date(Date.now() - daysAgo * 24 * 3600 * 1000).toISOString().slice(0, 10);
  await query("select ensure_month_partitions('execution_logs', $1::date, $1::date)", [month]);
  await query(
    `update execution_logs set created_at = created_at - interval '${daysAgo} days' where execution_id = $1`,
    [id],
  );
  return id;
}

const partitionOf = async (id: string) =>
  (
    await query<{ month: string }>(
      "select tableoid::regclass::text as month from execution_logs where execution_id = $1 limit 1",
      [id],
    )
  )[0].month;

async function exists(table: string): Promise<boolean> {
  return (await query<{ found: boolean }>("select to_regclass($1) is not null as found", [table]))[0].found;
}

async function archive(bucket: R2Bucket) {
  const session = openDatabase({ connectionString: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY });
  try {
    return await archiveLogs(session.db, bucket, 30);
  } finally {
    await session.close();
  }
}

/** Miniflare's R2 with one planned failure: the `failOn`-th put throws, as an outage would. */
function failingBucket(failOn: number): R2Bucket {
  let puts = 0;
  return new Proxy(env.STORAGE, {
    get(target, property) {
      if (property === "put") {
        return async (...args: Parameters<R2Bucket["put"]>) => {
          if (++puts === failOn) throw new Error("R2 is unavailable");
          return target.put(...args);
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("log archival", () => {
  it("moves past months to R2 as gzip NDJSON, drops their partitions, and reads them back with the live lines, in order", async () => {
    const user = await signIn("user");
    const workflowId = await workflowWith(user.token, flow);
    const id = await oldExecution(user.token, workflowId);
    const month = await partitionOf(id);
    const before = await logsOf(user.token, id);
    expect(before.length).toBeGreaterThan(4);
    // A line written today stays in Postgres.
    await query(
      "insert into execution_logs (execution_id, seq, level, event, message, created_at) values ($1, 1000, 'info', 'log', 'recent note', now())",
      [id],
    );

    const outcome = await archive(env.STORAGE);
    // The month left whole: its partition is gone, and no row was deleted one by one.
    expect(outcome.dropped).toContain(month);
    expect(await exists(month)).toBe(false);
    const [remaining] = await query<{ n: number }>(
      "select count(*)::int as n from execution_logs where execution_id = $1",
      [id],
    );
    expect(remaining.n).toBe(1);
    const [record] = await query<{ object_key: string; lines: number; first_seq: string }>(
      "select object_key, lines, first_seq from log_archives where execution_id = $1",
      [id],
    );
    expect(record).toMatchObject({ lines: before.length, first_seq: "1" });
    expect(record.object_key).toMatch(/^logs\/\d{4}-\d{2}-\d{2}\//);
    expect(await env.STORAGE.head(record.object_key)).not.toBeNull();

    const after = await logsOf(user.token, id);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.at(-1)).toMatchObject({ seq: 1000, message: "recent note" });
    const page = await callJson(`/api/v1/executions/${id}/logs?limit=3`, { token: user.token });
    expect(page.body.items.map((l: any) => l.seq)).toEqual([1, 2, 3]);
    const next = await callJson(`/api/v1/executions/${id}/logs?limit=3&cursor=${page.body.nextCursor}`, {
      token: user.token,
    });
    expect(next.body.items.map((l: any) => l.seq)).toEqual(after.slice(3, 6).map((l) => l.seq));
  });

  it("loses no line when R2 fails part-way, and finishes on the next run", async () => {
    const user = await signIn("user");
    const workflowId = await workflowWith(user.token, flow);
    const ids = [await oldExecution(user.token, workflowId, 80), await oldExecution(user.token, workflowId, 80)];
    const month = await partitionOf(ids[0]);
    expect(month).toBe(partitionName("execution_logs", new Date(Date.now() - 80 * 24 * 3600 * 1000)));
    const expected = await Promise.all(ids.map((id) => logsOf(user.token, id)));

    const outcome = await archive(failingBucket(2));
    expect(outcome.failed).toBeGreaterThanOrEqual(1);
    // Not every group is in R2: the month stays in Postgres, every line readable.
    expect(outcome.dropped).not.toContain(month);
    expect(await exists(month)).toBe(true);
    for (const [i, id] of ids.entries()) expect(await logsOf(user.token, id)).toEqual(expected[i]);

    expect((await archive(env.STORAGE)).dropped).toContain(month);
    for (const [i, id] of ids.entries()) {
      expect(await logsOf(user.token, id)).toEqual(expected[i]);
      const [left] = await query<{ n: number }>(
        "select count(*)::int as n from execution_logs where execution_id = $1",
        [id],
      );
      expect(left.n).toBe(0);
      const day = new Date(expected[i][0].at).toISOString().slice(0, 10);
      expect(await env.STORAGE.head(archiveKey(day, id))).not.toBeNull();
    }
  });
});
