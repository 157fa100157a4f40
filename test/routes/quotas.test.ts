/**
 * Per-user quotas (docs/operations.md) hold under concurrency: requests made at once beyond a quota get 429
 * QUOTA_EXCEEDED and leave nothing written; admins are exempt.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { permissionsFor } from "../../src/auth/permissions";
import type { AuthenticatedUser } from "../../src/auth/principal";
import { settings } from "../../src/config";
import { startExecution } from "../../src/services/execution-start";
import { QuotaExceededError } from "../../src/services/quotas";
import { createWorkflow } from "../../src/services/workflows";
import { query, withDb } from "../helpers/db";
import { workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { signIn, type TestUser } from "../helpers/users";

const audit = { actorId: null, actorEmail: "quota-test", ip: null, userAgent: null, requestId: null };

function principal(user: TestUser): AuthenticatedUser {
  return {
    id: user.id,
    email: user.email,
    name: user.username,
    roles: user.roles,
    permissions: permissionsFor(user.roles),
    jti: crypto.randomUUID(),
    sessionId: crypto.randomUUID(),
    credential: "session",
    scopes: null,
  };
}

/** Runs `attempts` at once; returns how many succeeded and how many were refused by the quota. */
async function race(attempts: Array<() => Promise<unknown>>) {
  const results = await Promise.allSettled(attempts.map((attempt) => attempt()));
  const refused = results.filter((r) => r.status === "rejected" && r.reason instanceof QuotaExceededError).length;
  const other = results.filter((r) => r.status === "rejected" && !(r.reason instanceof QuotaExceededError));
  if (other.length) throw (other[0] as PromiseRejectedResult).reason;
  return { ok: results.length - refused, refused };
}

describe("quotas", () => {
  it("refuses scheduled workflows beyond QUOTA_SCHEDULES_PER_USER with 429 QUOTA_EXCEEDED, made at once", async () => {
    const user = await signIn("user");
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        callJson("/api/v1/workflows", {
          token: user.token,
          body: { name: `nightly ${i}`, schedule: { cron: "0 3 * * *" } },
        }),
      ),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(3);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused).toHaveLength(5);
    expect(refused[0].body.error).toMatchObject({
      code: "QUOTA_EXCEEDED",
      message: expect.stringContaining("3 scheduled workflows"),
    });
    const [{ n }] = await query<{ n: number }>("select count(*)::int as n from workflows where owner_id = $1", [
      user.id,
    ]);
    expect(n).toBe(3);
    // Unscheduled workflows are not schedules; and admins are exempt.
    expect((await callJson("/api/v1/workflows", { token: user.token, body: { name: "manual" } })).status).toBe(201);
    const admin = await signIn("admin");
    for (let i = 0; i < 4; i++) {
      const res = await callJson("/api/v1/workflows", {
        token: admin.token,
        body: { name: `a${i}`, schedule: { cron: "0 3 * * *" } },
      });
      expect(res.status).toBe(201);
    }
  });

  it("refuses workflows beyond QUOTA_WORKFLOWS_PER_USER, made at once", async () => {
    const user = principal(await signIn("user"));
    const config = { ...settings(env), QUOTA_WORKFLOWS_PER_USER: 2 };
    const outcome = await withDb(({ db }) =>
      race(Array.from({ length: 6 }, (_, i) => () => createWorkflow(db, config, user, audit, { name: `w${i}` }))),
    );
    expect(outcome).toEqual({ ok: 2, refused: 4 });
  });

  // A plain start is one statement (start-statement.ts); one with an Idempotency-Key decides in a transaction.
  it.each([
    ["in one statement", false],
    ["in a transaction", true],
  ])("refuses starts beyond QUOTA_ACTIVE_EXECUTIONS_PER_USER, made at once, %s, until one ends", async (_, keyed) => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, { steps: [{ id: "gate", type: "approval" }] });
    const quotaEnv = { ...env, QUOTA_ACTIVE_EXECUTIONS_PER_USER: "2" };
    const startOne = (db: Parameters<typeof startExecution>[0]) =>
      startExecution(db, quotaEnv, {
        workflowId,
        input: {},
        triggerType: "manual",
        user: principal(owner),
        audit,
        ...(keyed ? { idempotencyKey: crypto.randomUUID() } : {}),
      });
    const outcome = await withDb(({ db }) => race(Array.from({ length: 5 }, () => () => startOne(db))));
    expect(outcome).toEqual({ ok: 2, refused: 3 });
    // The refused ones left nothing: neither a row nor an audit entry.
    const [written] = await query<{ rows: number; audited: number; all_audited: number }>(
      `select (select count(*)::int from executions where workflow_id = $1::uuid) as rows,
         (select count(*)::int from audit_logs where action = 'execution.start'
            and resource_id in (select id::text from executions where workflow_id = $1::uuid)) as audited,
         (select count(*)::int from audit_logs where actor_email = 'quota-test' and after->>'workflowId' = $1::text) as all_audited`,
      [workflowId],
    );
    expect(written).toMatchObject({ rows: 2, audited: 2, all_audited: 2 });
    const [active] = await query<{ id: string }>("select id from executions where workflow_id = $1 limit 1", [
      workflowId,
    ]);
    expect(
      (await callJson(`/api/v1/executions/${active.id}/cancel`, { method: "POST", token: owner.token })).status,
    ).toBe(200);
    for (let i = 0; ; i++) {
      const [row] = await query<{ status: string }>("select status from executions where id = $1", [active.id]);
      if (row.status === "cancelled") break;
      if (i > 100) throw new Error("not cancelled");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await expect(withDb(({ db }) => startOne(db))).resolves.toMatchObject({ created: true });
  });
});
