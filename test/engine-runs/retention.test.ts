/**
 * Retention per workflow (docs/workflows.md `retentionDays`): a workflow's executions leave that many
 * days after they ended, their logs archived to R2 first; another workflow's stay for its own time,
 * and a workflow without `retentionDays` keeps them.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { archiveKey } from "../../src/logs/archive";
import { readArchive } from "../../src/logs/archived";
import { removeExpiredExecutions } from "../../src/services/execution-retention";
import { query, withDb } from "../helpers/db";
import { start, waitForExecution } from "../helpers/executions";
import { createVersion } from "../helpers/fixtures";
import { callJson } from "../helpers/http";
import { signIn, uniqueName } from "../helpers/users";

const DAY_MS = 24 * 3600 * 1000;

async function workflowKeeping(token: string, retentionDays?: number) {
  const created = await callJson("/api/v1/workflows", {
    token,
    body: { name: uniqueName("kept"), ...(retentionDays ? { retentionDays } : {}) },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect(created.body.retentionDays).toBe(retentionDays ?? null);
  await createVersion(token, created.body.id, { steps: [{ id: "echo", type: "transform", output: "{{input.n}}" }] });
  return created.body.id as string;
}

describe("retention per workflow", () => {
  it("removes one workflow's executions earlier than another's, archiving their logs first", async () => {
    const owner = await signIn("user");
    const [short, long, forever] = [
      await workflowKeeping(owner.token, 1),
      await workflowKeeping(owner.token, 30),
      await workflowKeeping(owner.token),
    ];
    const ids = [await start(owner.token, short, { n: 1 }), await start(owner.token, long, { n: 2 })];
    ids.push(await start(owner.token, forever, { n: 3 }));
    for (const id of ids) expect((await waitForExecution(owner.token, id)).status).toBe("completed");
    const [gone, kept, child] = ids;
    // The kept one was started by the removed one (as a workflow step would).
    await query("update executions set parent_execution_id = $1 where id = $2", [gone, child]);
    const lines = await query<{ seq: string; day: string }>(
      "select seq, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD') as day from execution_logs where execution_id = $1 order by seq",
      [gone],
    );
    expect(lines.length).toBeGreaterThan(0);

    // Two days on: past the first workflow's one day, within the second's thirty.
    const outcome = await withDb(({ db }) =>
      removeExpiredExecutions(db, env.STORAGE, new Date(Date.now() + 2 * DAY_MS)),
    );
    expect(outcome.byWorkflow).toEqual({ [short]: 1 });
    expect(outcome.archivedLines).toBe(lines.length);

    expect((await callJson(`/api/v1/executions/${gone}`, { token: owner.token })).status).toBe(404);
    expect((await callJson(`/api/v1/executions/${kept}`, { token: owner.token })).status).toBe(200);
    const orphan = await callJson(`/api/v1/executions/${child}`, { token: owner.token });
    expect(orphan.body.parentExecutionId).toBeNull();
    expect(await query("select 1 from execution_logs where execution_id = $1", [gone])).toEqual([]);
    const archived = await readArchive(env.STORAGE, archiveKey(lines[0].day, gone));
    expect(archived.map((line) => line.seq)).toEqual(lines.map((line) => Number(line.seq)));

    // Forty days on, the second workflow's go too; the third's never do.
    const later = await withDb(({ db }) =>
      removeExpiredExecutions(db, env.STORAGE, new Date(Date.now() + 40 * DAY_MS)),
    );
    expect(later.byWorkflow[long]).toBe(1);
    expect(later.byWorkflow[forever]).toBeUndefined();
    expect((await callJson(`/api/v1/executions/${child}`, { token: owner.token })).status).toBe(200);
  });

  it("takes retentionDays from 1 to 3650 on create and update, and null to keep for ever", async () => {
    const owner = await signIn("user");
    const id = await workflowKeeping(owner.token, 7);
    const patch = (retentionDays: unknown) =>
      callJson(`/api/v1/workflows/${id}`, { method: "PATCH", token: owner.token, body: { retentionDays } });
    expect((await patch(0)).status).toBe(422);
    expect((await patch(3651)).status).toBe(422);
    expect((await patch(90)).body.retentionDays).toBe(90);
    expect((await patch(null)).body.retentionDays).toBeNull();
  });
});
