/**
 * The one-minute schedule (docs/backups.md): an interval with no changes writes nothing and is recorded,
 * the change log keeps each change until a verified backup holds it, and every backup is copied
 * to the replica bucket, checked by sha256, catching up after the bucket failed writes for a
 * while. On a database of its own, so no other test's writes make an interval non-empty.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createPending } from "../../src/backup/catalog";
import { backupHealth, describeProblems } from "../../src/backup/health";
import { MANIFEST_NAME, type Manifest } from "../../src/backup/manifest";
import { backupsToReplicate } from "../../src/backup/replica";
import { runJob } from "../../src/consumers/jobs";
import { toHex } from "../../src/crypto/encoding";
import { backupHarness } from "../helpers/backup";
import { fireCron } from "../helpers/cron";
import { query } from "../helpers/db";
import { call, callJson } from "../helpers/http";
import { signIn } from "../helpers/users";

const { envFor, open, seed, sql, takeBackup, verify } = backupHarness(env.TEST_SCHEDULE_DATABASE_URL);
const replicaBound = { incrementalMinutes: 1, replica: true };

/** Runs a job as the jobs queue would; a backup job answers the catalog row (or null). */
const job = (message: Parameters<typeof runJob>[0], jobEnv = envFor()): Promise<any> => runJob(message, jobEnv);

async function keysUnder(bucket: R2Bucket, prefix: string): Promise<string[]> {
  return (await bucket.list({ prefix })).objects.map((object) => object.key);
}

/** The replica binding, refusing every put after the first `okPuts` while `failing` is set. */
function flakyReplica(okPuts: number) {
  const state = { failing: true, puts: 0 };
  const bucket = new Proxy(env.STORAGE_REPLICA, {
    get(target, property) {
      if (property === "put")
        return async (...args: Parameters<R2Bucket["put"]>) => {
          state.puts += 1;
          if (state.failing && state.puts > okPuts) throw new Error("R2 unavailable (injected)");
          return target.put(...args);
        };
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { bucket, state };
}

describe("backups every minute", () => {
  it("records an interval with no changes without writing an object, and takes the next change", async () => {
    await seed(50);
    await takeBackup("full");
    const slot = (minute: number) => new Date(Date.UTC(2026, 10, 25, 10, minute));
    /** Fires the cron for a minute and runs the backup it scheduled, if any, as the jobs queue would. */
    const minute = async (at: Date) => {
      await fireCron(at, envFor());
      const [row] = await sql<{ id: string }>("select id from backups where slot = $1", [at]);
      return row ? await job({ type: "backup", backupId: row.id }, envFor()) : null;
    };
    // 10:01 is no quarter hour: only a one-minute schedule has a slot there. It takes the full's own audit row.
    const first = await minute(slot(1));
    expect(first).toMatchObject({ kind: "incremental", status: "completed" });
    expect(first.manifest.changes.upserts).toBeGreaterThan(0);
    const incrementals = await keysUnder(env.STORAGE, "backups/incremental/");

    // Nothing changed since (a scheduled incremental's success is not audited): no run, no object, a record.
    expect(await minute(slot(2))).toBeNull();
    const [marked] = await sql<{ unchanged_at: Date | null }>("select unchanged_at from backups where id = $1", [
      first.id,
    ]);
    expect(new Date(marked.unchanged_at as Date).getTime()).toBeGreaterThan(new Date(first.snapshotAt).getTime());
    expect(await keysUnder(env.STORAGE, "backups/incremental/")).toEqual(incrementals);
    // The empty interval keeps incrementals fresh on a one-minute schedule.
    const session = open();
    try {
      const health = await backupHealth(session.db, replicaBound, new Date(Date.now() + 90_000));
      expect(health.freshness.find((f) => f.kind === "incremental")?.stale).toBe(false);
      const stale = await backupHealth(session.db, replicaBound, new Date(Date.now() + 180_000));
      expect(stale.freshness.find((f) => f.kind === "incremental")?.stale).toBe(true);

      // A change: the next minute schedules an incremental. A second run queued behind it finds nothing left.
      const [user] = await sql<{ id: string }>("select id from users limit 1");
      await sql("update users set full_name = 'changed' where id = $1", [user.id]);
      await fireCron(slot(3), envFor());
      const [scheduled] = await sql<{ id: string; kind: string }>("select id, kind from backups where slot = $1", [
        slot(3),
      ]);
      expect(scheduled.kind).toBe("incremental");
      const queuedBehind = await createPending(session.db, "incremental", { slot: slot(4) });
      const taken = await job({ type: "backup", backupId: scheduled.id }, envFor());
      expect(taken.manifest.changes.upserts).toBe(1);
      expect(await job({ type: "backup", backupId: queuedBehind?.id as string }, envFor())).toBeNull();
      expect(await sql("select id from backups where id = $1", [queuedBehind?.id])).toEqual([]);
      const [after] = await sql<{ unchanged_at: Date | null }>("select unchanged_at from backups where id = $1", [
        scheduled.id,
      ]);
      expect(after.unchanged_at).not.toBeNull();
    } finally {
      await session.close();
    }
  });

  it("keeps changes in the log until a verified backup holds them", async () => {
    const heldBy = async (backup: { snapshot: string }) =>
      Number(
        (
          await sql<{ n: string }>(
            "select count(*) as n from change_log where pg_visible_in_snapshot(txid, $1::pg_snapshot)",
            [backup.snapshot],
          )
        )[0].n,
      );
    await seed(20);
    const full = await takeBackup("full");
    expect((await verify(full.id)).ok).toBe(true);
    expect(await heldBy(full)).toBe(0);
    await seed(20);
    const incremental = await takeBackup("incremental");
    expect(incremental.status).toBe("completed");
    // Completed, not verified: the changes it took stay in the log.
    expect(await heldBy(incremental)).toBeGreaterThan(0);
    expect((await verify(incremental.id, { mode: "objects" })).ok).toBe(true);
    expect(await heldBy(incremental)).toBe(0);
  });

  it("copies every object and manifest to the replica, checked by sha256, catching up after failed writes", async () => {
    await seed(30);
    const replica = flakyReplica(1);
    const withReplica = { ...envFor(), STORAGE_REPLICA: replica.bucket } as typeof env;
    const session = open();
    try {
      const [row] = await sql<{ id: string }>("insert into backups (kind, prefix) values ('full', 'x') returning id");
      const prefix = `backups/full/2026-11-25/${row.id}/`;
      await sql("update backups set prefix = $2 where id = $1", [row.id, prefix]);
      const full = await job({ type: "backup", backupId: row.id }, withReplica);
      // The backup itself is whole; its copy failed after one object, and holds no manifest.
      expect(full.status).toBe("completed");
      const [failed] = await sql<{ replica_status: string; replica_reason: string }>(
        "select replica_status, replica_reason from backups where id = $1",
        [row.id],
      );
      expect(failed.replica_status).toBe("failed");
      expect(failed.replica_reason).toContain("R2 unavailable (injected)");
      expect(await keysUnder(env.STORAGE_REPLICA, prefix)).toHaveLength(1);
      expect(await env.STORAGE_REPLICA.head(`${prefix}${MANIFEST_NAME}`)).toBeNull();

      // Lagging for ten minutes and more: readiness says so.
      const later = await backupHealth(session.db, replicaBound, new Date(Date.now() + 11 * 60_000));
      expect(later.replica).toMatchObject({ waiting: 1, lagging: true, lastFailure: { backupId: row.id } });
      expect(describeProblems(later)).toMatch(/replica lags \d+ s \(1 backups not copied; last failure: .*injected/);

      // The cron retries a minute after the failure; the bucket is back by then.
      expect(await backupsToReplicate(session.db)).not.toContain(row.id);
      await sql("update backups set replica_at = now() - interval '2 minutes' where id = $1", [row.id]);
      expect(await backupsToReplicate(session.db)).toContain(row.id);
      replica.state.failing = false;
      expect(await job({ type: "replicate", backupId: row.id }, withReplica)).toBe("copied");

      const manifest = full.manifest as Manifest;
      for (const object of manifest.objects) {
        const copy = await env.STORAGE_REPLICA.get(`${prefix}${object.name}`);
        const bytes = new Uint8Array(await (copy as R2ObjectBody).arrayBuffer());
        expect(toHex(await crypto.subtle.digest("SHA-256", bytes)), object.name).toBe(object.sha256);
      }
      const copied = await env.STORAGE_REPLICA.get(`${prefix}${MANIFEST_NAME}`);
      const original = await env.STORAGE.get(`${prefix}${MANIFEST_NAME}`);
      expect(await copied?.text()).toBe(await original?.text());
      const healthy = await backupHealth(session.db, replicaBound, new Date(Date.now() + 11 * 60_000));
      expect(healthy.replica).toMatchObject({ waiting: 0, lagSeconds: 0, lagging: false });

      // A copy R2 refuses: bytes that do not hash to what the manifest says are not stored.
      await env.STORAGE_REPLICA.delete(`${prefix}${manifest.objects[0].name}`);
      await env.STORAGE.put(`${prefix}${manifest.objects[0].name}`, "tampered");
      await sql("update backups set replica_status = 'pending' where id = $1", [row.id]);
      expect(await job({ type: "replicate", backupId: row.id }, withReplica)).toBe("failed");
      expect(await env.STORAGE_REPLICA.head(`${prefix}${manifest.objects[0].name}`)).toBeNull();
    } finally {
      await session.close();
    }
  });
});

describe("the replica through the API", () => {
  it("serves a backup's object from the replica bucket when asked, for restores while the primary lacks it", async () => {
    const admin = await signIn("admin");
    const id = crypto.randomUUID();
    const prefix = `backups/full/2026-11-25/${id}/`;
    const manifest = { objects: [{ name: "100-users.sql.gz", bytes: 5, sha256: "x" }] };
    await query(
      "insert into backups (id, kind, status, prefix, manifest, base_id) values ($1, 'full', 'completed', $2, $3, null)",
      [id, prefix, JSON.stringify(manifest)],
    );
    await env.STORAGE_REPLICA.put(`${prefix}100-users.sql.gz`, "copy!");
    const path = `/api/v1/admin/backups/${id}/objects/100-users.sql.gz`;
    expect((await call(path, { token: admin.token })).status).toBe(404);
    const fromReplica = await call(`${path}?bucket=replica`, { token: admin.token });
    expect(fromReplica.status).toBe(200);
    expect(await fromReplica.text()).toBe("copy!");
    const bad = await callJson(`${path}?bucket=elsewhere`, { token: admin.token });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe("query.bucket");
  });
});
