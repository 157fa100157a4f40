/**
 * Order-independent table checksums (docs/backups.md): an incremental derives them from its own changes
 * (the change log keeps each changed row's previous hash) instead of reading whole tables, and the
 * scheme is sound — a change made behind the change log's back is caught by verification. On a
 * database of their own, so no other test's backups interleave.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SUM_SCHEME } from "../../src/backup/checksum";
import { backupHarness } from "../helpers/backup";
import { fireCron } from "../helpers/cron";

const { envFor, openDirect, seed, sql, takeBackup, verify } = backupHarness(env.TEST_CHECKSUM_DATABASE_URL);

const tableOf = (backup: any, name: string) => backup.manifest.tables.find((t: { name: string }) => t.name === name);

describe("table checksums", () => {
  it("derives an incremental's checksums from its changes, and they match the restore", async () => {
    await seed(300);
    const full = await takeBackup("full");
    expect(tableOf(full, "users").chunkRows).toBe(SUM_SCHEME);
    const [user] = await sql<{ id: string }>("select id from users order by created_at limit 1");
    await sql("update users set full_name = 'renamed' where id = $1", [user.id]);
    await sql("delete from execution_logs where seq = 1");
    await seed(50);
    const incremental = await takeBackup("incremental");
    expect(incremental.status).toBe("completed");
    // Derived, yet equal to what reading the tables gives now (nothing else writes this database).
    for (const table of ["users", "execution_logs", "workflows"]) {
      const [now] = await sql<{ n: string }>(`select count(*)::bigint as n from ${table}`);
      expect(tableOf(incremental, table).rows, table).toBe(Number(now.n));
    }
    expect(tableOf(incremental, "users").checksum).not.toBe(tableOf(full, "users").checksum);
    // A table nobody touched keeps its checksum, unread.
    expect(tableOf(incremental, "secrets")).toEqual(tableOf(full, "secrets"));
    const verdict = await verify(incremental.id);
    expect(verdict.ok, verdict.reason).toBe(true);
  });

  it("catches a row changed behind the change log's back", async () => {
    await seed(100);
    const full = await takeBackup("full");
    const [user] = await sql<{ id: string }>("select id from users order by created_at desc limit 1");
    // Triggers off for this session (a session setting: the direct endpoint): the change log never hears of this update.
    const session = openDirect();
    const client = await session.pool.connect();
    try {
      await client.query("set session_replication_role = replica");
      await client.query("update users set full_name = 'sneaky' where id = $1", [user.id]);
    } finally {
      client.release();
      await session.close();
    }
    const [{ logged }] = await sql<{ logged: string }>(
      `select count(*)::int as logged from change_log where table_name = 'users' and pk = jsonb_build_object('id', $1::uuid)
       and not pg_visible_in_snapshot(txid, $2::pg_snapshot)`,
      [user.id, full.snapshot],
    );
    expect(Number(logged)).toBe(0);
    // A logged change to the same row afterwards: its old hash is the sneaky row's, not the backed-up one.
    await sql("update users set full_name = 'logged' where id = $1", [user.id]);
    const incremental = await takeBackup("incremental");
    const verdict = await verify(incremental.id);
    expect(verdict.ok).toBe(false);
    expect(verdict.reason).toBe("table users: checksum differs from the manifest");
  });

  it("starts the chain over after a migration: the schedule takes a full, a manual incremental is refused", async () => {
    await seed(20);
    await takeBackup("full");
    await sql("insert into drizzle.__drizzle_migrations (hash, created_at) values ('test-migration', 1)");
    try {
      await expect(takeBackup("incremental")).rejects.toThrow(/the schema changed since backup .*; take a full backup/);
      const slot = new Date(Date.UTC(2026, 10, 24, 10, 15)); // an incremental's slot
      await fireCron(slot, envFor());
      expect(await sql("select kind from backups where slot = $1", [slot])).toEqual([{ kind: "full" }]);
    } finally {
      await sql("delete from drizzle.__drizzle_migrations where hash = 'test-migration'");
    }
  });
});
