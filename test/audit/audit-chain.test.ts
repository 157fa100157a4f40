import { describe, expect, it } from "vitest";
import { query, withDb } from "../helpers/db";
import { createWorkflow } from "../helpers/fixtures";
import { callJson } from "../helpers/http";
import { signIn, uniqueName } from "../helpers/users";

/** The resource's audit rows in chain order, once the sequencer has linked what was written. */
async function auditRowsFor(resourceId: string) {
  await query("select audit_link(100000)");
  return query<{
    action: string;
    actor_id: string;
    before: unknown;
    after: any;
    ip: string | null;
    user_agent: string | null;
  }>(
    "select action, actor_id, before, after, host(ip) as ip, user_agent from audit_logs where resource_id = $1 order by seq",
    [resourceId],
  );
}

describe("audit trail", () => {
  it("records who changed what, with before and after, in the change's transaction", async () => {
    const user = await signIn("user");
    const wf = await createWorkflow(user.token);
    await callJson(`/api/v1/workflows/${wf.id}`, {
      method: "PATCH",
      token: user.token,
      body: { name: "renamed" },
      headers: { "user-agent": "audit-test/1.0", "cf-connecting-ip": "203.0.113.7" },
    });
    const rows = await auditRowsFor(wf.id);
    expect(rows.map((r) => r.action)).toEqual(["workflow.create", "workflow.update"]);
    expect(rows[1]).toMatchObject({ actor_id: user.id, ip: "203.0.113.7", user_agent: "audit-test/1.0" });
    expect(rows[1].after.name).toBe("renamed");
    expect((rows[1].before as any).name).toBe(wf.name);
  });

  it("writes no audit row for a failed change", async () => {
    const user = await signIn("user");
    const wf = await createWorkflow(user.token);
    const res = await callJson(`/api/v1/workflows/${wf.id}`, {
      method: "PATCH",
      token: user.token,
      body: { name: "" },
    });
    expect(res.status).toBe(422);
    expect((await auditRowsFor(wf.id)).map((r) => r.action)).toEqual(["workflow.create"]);
  });

  it("rolls the change back when the audit insert fails", async () => {
    const user = await signIn("user");
    const poison = uniqueName("audit-poison");
    // Make the database refuse exactly this change's audit row.
    const constraint = `reject_${poison.replace(/-/g, "_")}`;
    await query(
      `alter table audit_logs add constraint ${constraint} check (coalesce(after->>'name', '') <> '${poison}') not valid`,
    );
    try {
      const res = await callJson("/api/v1/workflows", { token: user.token, body: { name: poison } });
      expect(res.status).toBe(500);
      expect(JSON.stringify(res.body)).not.toMatch(/audit_logs|constraint|check/i);
    } finally {
      await query(`alter table audit_logs drop constraint ${constraint}`);
    }
    const [{ n }] = await query<{ n: number }>("select count(*)::int as n from workflows where name = $1", [poison]);
    expect(n).toBe(0);
  });

  it("keeps one unforked chain under 50 concurrent mutations", async () => {
    const user = await signIn("user");
    const admin = await signIn("admin");
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        callJson("/api/v1/workflows", { token: user.token, body: { name: uniqueName(`c${i}`) } }),
      ),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    const verdict = await callJson("/api/v1/audit/verify", { token: admin.token });
    expect(verdict.status).toBe(200);
    expect(verdict.body.valid).toBe(true);
    expect(verdict.body.checked).toBeGreaterThanOrEqual(50);
    const [{ forks }] = await query<{ forks: number }>(
      // Rows the sequencer has not linked yet (other files write audit rows at the same time) have no prev_hash.
      "select count(*)::int as forks from (select prev_hash from audit_logs where prev_hash <> '' group by prev_hash having count(*) > 1) f",
    );
    expect(forks).toBe(0);
  });

  it("lets writers append without waiting on each other; the sequencer links them", async () => {
    const admin = await signIn("admin");
    const insert = (client: { query: (text: string, params: unknown[]) => Promise<unknown> }, action: string) =>
      client.query("insert into audit_logs (action, resource_type, resource_id) values ($1, 'test', $2)", [
        action,
        admin.id,
      ]);
    await withDb(async ({ pool }) => {
      const slow = await pool.connect();
      try {
        // A long transaction has appended its row and not committed...
        await slow.query("begin");
        await insert(slow, "test.slow");
        // ...and another writer appends and commits meanwhile, without waiting for it (a global
        // chain lock would hold it until the first commits).
        const quick = withDb((other) => insert(other.pool, "test.quick"));
        const waited = await Promise.race([
          quick.then(() => false),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 3_000)),
        ]);
        await slow.query("commit");
        await quick;
        expect(waited, "the second writer waited for the first").toBe(false);
      } finally {
        slow.release();
      }
    });
    // The sequencer links both (in the order they became visible to it) and the chain holds.
    const verdict = await callJson("/api/v1/audit/verify", { token: admin.token });
    expect(verdict.body.valid).toBe(true);
    const linked = await query<{ action: string; seq: string }>(
      "select action, seq from audit_logs where resource_type = 'test' and resource_id = $1 order by seq",
      [admin.id],
    );
    expect(linked.map((row) => row.action).sort()).toEqual(["test.quick", "test.slow"]);
    // Linking is the sequencer's alone, and only of an unlinked row with its content as written.
    await expect(query("update audit_logs set seq = seq + 1000000 where seq = $1", [linked[0].seq])).rejects.toThrow(
      /immutable/,
    );
  });

  it("refuses updates and deletes of audit rows at the database", async () => {
    await signIn("admin").then((admin) => createWorkflow(admin.token));
    await expect(
      query("update audit_logs set action = 'x' where seq = (select max(seq) from audit_logs)"),
    ).rejects.toThrow(/immutable/);
    await expect(query("delete from audit_logs where seq = (select max(seq) from audit_logs)")).rejects.toThrow(
      /immutable/,
    );
  });

  it("names the row an attacker with table-owner rights altered", async () => {
    const admin = await signIn("admin");
    const wf = await createWorkflow(admin.token);
    await query("select audit_link(100000)");
    const [target] = await query<{ seq: string; id: string; action: string }>(
      "select seq, id, action from audit_logs where resource_id = $1",
      [wf.id],
    );
    const tamper = (action: string) =>
      withDb(async ({ pool }) => {
        const client = await pool.connect();
        try {
          await client.query("begin");
          await client.query("alter table audit_logs disable trigger audit_logs_append_only");
          await client.query("update audit_logs set action = $1 where id = $2", [action, target.id]);
          await client.query("alter table audit_logs enable trigger audit_logs_append_only");
          await client.query("commit");
        } finally {
          client.release();
        }
      });
    await tamper("workflow.nothing_to_see");
    try {
      const verdict = await callJson("/api/v1/audit/verify", { token: admin.token });
      expect(verdict.body).toMatchObject({
        valid: false,
        brokenAt: { seq: Number(target.seq), id: target.id, reason: "content_changed" },
      });
    } finally {
      await tamper(target.action);
    }
    expect((await callJson("/api/v1/audit/verify", { token: admin.token })).body.valid).toBe(true);
  });

  it("lists audit entries newest first with filters", async () => {
    const admin = await signIn("admin");
    const wf = await createWorkflow(admin.token);
    const res = await callJson(`/api/v1/audit?resourceId=${wf.id}`, { token: admin.token });
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0]).toMatchObject({ action: "workflow.create", actorId: admin.id, resourceType: "workflow" });
    expect(res.body.items[0].hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuses a second row at a position already in the chain, across months", async () => {
    await withDb(async ({ pool }) => {
      const client = await pool.connect();
      try {
        await client.query("begin");
        await client.query("select audit_link(100000)");
        // A row of another month than the newest linked one (another partition, where no index on
        // audit_logs itself could see the clash), linked as a sequencer would, at a taken position.
        const [row] = (
          await client.query(
            "insert into audit_logs (action, resource_type, created_at) values ('test.duplicate', 'test', now() - interval '40 days') returning id",
          )
        ).rows;
        await client.query("select set_config('ipa.audit_sequencer', 'on', true)");
        const taken = (await client.query("select max(seq) as seq from audit_logs")).rows[0].seq;
        await expect(
          client.query("update audit_logs set seq = $1, prev_hash = 'x', hash = 'y' where id = $2", [taken, row.id]),
        ).rejects.toThrow(/audit_chain_positions_pkey/);
      } finally {
        await client.query("rollback");
        client.release();
      }
    });
  });

  it("answers a list at once while a sequencer holds the chain's lock", async () => {
    const admin = await signIn("admin");
    const wf = await createWorkflow(admin.token);
    await withDb(async ({ pool }) => {
      const sequencer = await pool.connect();
      try {
        await sequencer.query("begin");
        await sequencer.query("select pg_advisory_xact_lock(hashtext('ipa.audit_logs.sequencer'))");
        const list = callJson(`/api/v1/audit?resourceId=${wf.id}`, { token: admin.token });
        const answered = await Promise.race([
          list.then(() => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3_000)),
        ]);
        await sequencer.query("commit");
        expect(answered, "GET /audit waited for the sequencer's lock").toBe(true);
        expect((await list).status).toBe(200);
      } finally {
        sequencer.release();
      }
    });
  });
});
