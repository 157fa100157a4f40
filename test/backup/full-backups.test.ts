import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { prefixFor } from "../../src/backup/catalog";
import { measureObject } from "../../src/backup/object-reader";
import { BackupBusyError } from "../../src/backup/run-backup";
import { openDatabase } from "../../src/db/client";
import worker from "../../src/index";
import { backupHarness } from "../helpers/backup";

const { envFor: backupEnv, seed, sql: sqlIn, takeBackup, verify } = backupHarness(env.TEST_BACKUP_DATABASE_URL);

const count = async (table: string) => Number((await sqlIn<{ n: string }>(`select count(*) as n from ${table}`))[0].n);

describe("full backups", () => {
  it("writes a manifest that matches the data and the stored objects, then verifies by restore", async () => {
    await seed(2_000);
    const backup = await takeBackup("full");
    expect(backup.status).toBe("completed");
    const manifest = backup.manifest;
    expect(manifest).toMatchObject({
      format: "ipa-backup/1",
      kind: "full",
      compression: "gzip",
      // Encrypted by default, with the keyring's current key; signed with a key derived from it.
      encryption: { algorithm: "AES-256-GCM", keyId: env.ENCRYPTION_KEY_ID },
      signature: { keyId: env.ENCRYPTION_KEY_ID, hmacSha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      base: null,
    });
    expect(manifest.migrations.length).toBeGreaterThanOrEqual(6);
    // (audit_logs is left out: the backup audits its own completion, after its snapshot.)
    for (const table of ["users", "workflows", "workflow_versions", "executions", "execution_logs"]) {
      expect(manifest.tables.find((t: any) => t.name === table)?.rows).toBe(await count(table));
    }
    expect(manifest.tables.map((t: any) => t.name)).not.toContain("backups");
    expect(manifest.objects.map((o: any) => o.role)).toEqual([
      "pre-data",
      ...manifest.tables.map(() => "data"),
      "post-data",
    ]);
    for (const object of manifest.objects) {
      expect(await measureObject(env.STORAGE, `${backup.prefix}${object.name}`, object.name)).toMatchObject({
        bytes: object.bytes,
        sha256: object.sha256,
      });
    }
    const stored = await env.STORAGE.get(`${backup.prefix}manifest.json`);
    expect(await stored?.json()).toEqual(manifest);
    expect(backup.prefix).toBe(prefixFor("full", backup.id, new Date(backup.createdAt)));

    const verdict = await verify(backup.id);
    expect(verdict).toMatchObject({ ok: true, reason: null, mode: "restore" });
    expect(verdict.tables.every((t: any) => t.checksumMatches && t.rows === t.expectedRows)).toBe(true);
    const [row] = await sqlIn<{ status: string }>("select status from backups where id = $1", [backup.id]);
    expect(row.status).toBe("verified");
    // The scratch schema is gone again.
    expect(await sqlIn("select 1 from pg_namespace where nspname like 'ipa_verify_%'")).toHaveLength(0);
  });

  it("records its progress while it runs: stage, tables written of all, rows so far", async () => {
    await seed(2_000);
    const seen: Array<{ stage: string; tablesDone: number; tablesTotal: number; rows: number; table?: string }> = [];
    let running = true;
    const watch = (async () => {
      while (running) {
        const [row] = await sqlIn<{ progress: any }>(
          "select progress from backups where status = 'running' and progress is not null order by created_at desc limit 1",
        );
        if (row && JSON.stringify(row.progress) !== JSON.stringify(seen.at(-1))) seen.push(row.progress);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const backup = await takeBackup("full");
    running = false;
    await watch;
    const tables = seen.filter((p) => p.stage === "tables");
    expect(tables.length).toBeGreaterThan(2);
    // Monotonic: tables and rows only grow, and each names the table being written.
    for (let i = 1; i < tables.length; i++) {
      expect(tables[i].tablesDone).toBeGreaterThanOrEqual(tables[i - 1].tablesDone);
      expect(tables[i].rows).toBeGreaterThanOrEqual(tables[i - 1].rows);
      expect(tables[i].table).toEqual(expect.any(String));
    }
    const [done] = await sqlIn<{ progress: any; rows: string }>("select progress, rows from backups where id = $1", [
      backup.id,
    ]);
    expect(done.progress).toEqual({
      stage: "done",
      tablesDone: tables[0].tablesTotal,
      tablesTotal: tables[0].tablesTotal,
      rows: Number(done.rows),
    });
  });

  it("fails verification when one byte of an object flips", async () => {
    const backup = await takeBackup("full");
    const object = backup.manifest.objects.find((o: any) => o.table === "execution_logs");
    const key = `${backup.prefix}${object.name}`;
    const bytes = new Uint8Array(await ((await env.STORAGE.get(key)) as R2ObjectBody).arrayBuffer());
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    await env.STORAGE.put(key, bytes);
    const verdict = await verify(backup.id);
    expect(verdict.ok).toBe(false);
    expect(verdict.reason).toBe(`object ${object.name} of ${backup.id}: sha256 does not match the manifest`);
    const [row] = await sqlIn<{ status: string; verification_failures: number }>(
      "select status, verification_failures from backups where id = $1",
      [backup.id],
    );
    expect(row).toEqual({ status: "verification_failed", verification_failures: 1 });
    const [audit] = await sqlIn<{ action: string }>(
      "select action from audit_logs where resource_id = $1 order by created_at desc limit 1",
      [backup.id],
    );
    expect(audit.action).toBe("backup.verify_failed");
  });

  it("fails verification when an object is deleted", async () => {
    const backup = await takeBackup("full");
    const object = backup.manifest.objects[1];
    await env.STORAGE.delete(`${backup.prefix}${object.name}`);
    const verdict = await verify(backup.id);
    expect(verdict).toMatchObject({ ok: false, reason: `object ${object.name} is missing from R2` });
  });

  it("fails verification when a table comes back short in the scratch restore", async () => {
    const backup = await takeBackup("full");
    const verdict = await verify(backup.id, {
      afterLoad: async (client) => {
        await client.query("truncate workflow_versions cascade");
      },
    });
    expect(verdict.ok).toBe(false);
    expect(verdict.reason).toMatch(
      /^table (workflow_versions|workflows|executions|execution_logs): 0 rows in the restore, \d+ in the manifest$/,
    );
  });

  it("encrypts objects in chunks when BACKUP_ENCRYPTION_KEY_ID is set, and still verifies", async () => {
    const backup = await takeBackup("full", { BACKUP_ENCRYPTION_KEY_ID: "k1" });
    expect(backup.manifest.encryption).toEqual({ algorithm: "AES-256-GCM", keyId: "k1", chunkBytes: 1024 * 1024 });
    expect(backup.manifest.objects.every((o: any) => o.name.endsWith(".sql.gz.enc"))).toBe(true);
    const object = backup.manifest.objects.find((o: any) => o.table === "users");
    const stored = new Uint8Array(
      await ((await env.STORAGE.get(`${backup.prefix}${object.name}`)) as R2ObjectBody).arrayBuffer(),
    );
    // Neither gzip's magic number nor the plaintext shows.
    expect(stored[4] === 0x1f && stored[5] === 0x8b).toBe(false);
    expect(await verify(backup.id, {}, { BACKUP_ENCRYPTION_KEY_ID: "k1" })).toMatchObject({ ok: true });
    // Without the key the chunks do not open.
    const noKey = await verify(
      backup.id,
      {},
      {
        ENCRYPTION_KEYS: JSON.stringify({ k1: "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=" }),
        ENCRYPTION_KEY_ID: "k1",
      },
    );
    expect(noKey.ok).toBe(false);
  });

  it("refuses to overlap: a run waits while another holds the backup lock", async () => {
    // A session lock needs the direct endpoint: on the pooled one it would stay behind on a shared connection.
    const holder = openDatabase({
      connectionString: env.TEST_BACKUP_DATABASE_URL,
      wsProxy: env.NEON_DIRECT_WS_PROXY,
      max: 1,
    });
    const client = await holder.pool.connect();
    await client.query("select pg_advisory_lock(hashtext('ipa.backups'))");
    try {
      await expect(takeBackup("full")).rejects.toBeInstanceOf(BackupBusyError);
    } finally {
      await client.query("select pg_advisory_unlock(hashtext('ipa.backups'))");
      client.release();
      await holder.close();
    }
    const pending = await sqlIn<{ id: string }>("select id from backups where status = 'pending'");
    expect(pending.length).toBeGreaterThanOrEqual(1);
  });

  it("cleans up a crashed run: its stale running entry fails and its partial objects go", async () => {
    const [stale] = await sqlIn<{ id: string; prefix: string }>(
      `insert into backups (kind, status, prefix, started_at) values ('full', 'running', 'backups/full/2026-01-01/crashed/', now() - interval '1 hour') returning id, prefix`,
    );
    await env.STORAGE.put(`${stale.prefix}100-users.sql.gz`, "partial");
    const next = await takeBackup("full");
    expect(next.status).toBe("completed");
    const [row] = await sqlIn<{ status: string; reason: string }>("select status, reason from backups where id = $1", [
      stale.id,
    ]);
    expect(row.status).toBe("failed");
    expect(row.reason).toMatch(/interrupted/);
    expect((await env.STORAGE.list({ prefix: stale.prefix })).objects).toHaveLength(0);
  });

  it("schedules one backup per slot even when cron fires twice", async () => {
    const slot = new Date(Date.UTC(2026, 10, 22, 2, 0)); // 02:00 UTC: the daily full
    const fire = async () => {
      const ctx = createExecutionContext();
      await worker.scheduled(
        createScheduledController({ scheduledTime: slot.getTime(), cron: "* * * * *" }),
        backupEnv(),
        ctx,
      );
      await waitOnExecutionContext(ctx);
    };
    await Promise.all([fire(), fire()]);
    const rows = await sqlIn<{ kind: string }>("select kind from backups where slot = $1", [slot]);
    expect(rows).toEqual([{ kind: "full" }]);
  });
});
