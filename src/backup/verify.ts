/**
 * Verification by restore (docs/backups.md): re-read every object of the backup's chain from R2 and check
 * its size and sha256 against the manifest; load the SQL through the Neon driver into a scratch
 * schema (of VERIFY_DATABASE_URL when set, else of the main database); recompute every table's
 * row count and checksum in SQL and compare; drop the scratch schema. The verdict, its duration
 * and reason go to the catalog, the audit log and the logs.
 */
import type { PoolClient } from "@neondatabase/serverless";
import { eq, sql } from "drizzle-orm";
import { keyringOf } from "../crypto/keyring-of";
import { openDirectDatabase } from "../db/client";
import type { BackupVerification } from "../db/schema";
import { backups } from "../db/schema";
import { recordNotice } from "../notifications/record";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import { type BackupRow, findBackup } from "./catalog";
import { ChainError, type ChainLink, resolveChain } from "./chain";
import { checksumQuery, TEXT_SETTINGS } from "./checksum";
import { measureObject, ObjectCheckError, readStatements } from "./object-reader";
import { auditBackup, auditsSuccess, type BackupContext, manifestTrust } from "./run-backup";
import { ident } from "./sql-text";

export type Verification = BackupVerification;

export interface VerifyOptions {
  /**
   * `restore` (default) loads the whole chain into a scratch schema and compares checksums;
   * `objects` checks the chain and every object's size and sha256 only (the cheap check each
   * incremental gets when it is made; a daily restore covers the whole chain).
   */
  mode?: "restore" | "objects";
  /** Runs between checking the objects and loading them (the tests swap an object here). */
  beforeLoad?: () => Promise<void>;
  /** Runs between loading and comparing (the tests corrupt the scratch restore here). */
  afterLoad?: (client: PoolClient, schema: string) => Promise<void>;
}

class Mismatch extends Error {}

export async function verifyBackup(
  context: BackupContext,
  backupId: string,
  options: VerifyOptions = {},
): Promise<Verification> {
  const row = await findBackup(context.db, backupId);
  if (!row) throw new Error(`backup ${backupId} does not exist`);
  const started = Date.now();
  const verdict: Verification = {
    ok: false,
    mode: options.mode ?? "restore",
    reason: null,
    durationMs: 0,
    checkedAt: "",
    chain: [],
    objects: 0,
    tables: [],
  };
  try {
    const chain = await resolveChain(context.db, context.bucket, row, manifestTrust(context.config));
    verdict.chain = chain.map((link) => link.row.id);
    // Each object's version as checked: the restore reads exactly that one or nothing.
    const checked = new Map<string, string>();
    for (const link of chain) verdict.objects += await checkObjects(context, link, checked);
    await options.beforeLoad?.();
    if (verdict.mode === "restore") verdict.tables = await restoreAndCompare(context, chain, checked, options);
    const wrong = verdict.tables.find((table) => table.rows !== table.expectedRows || !table.checksumMatches);
    if (wrong) {
      throw new Mismatch(
        wrong.rows !== wrong.expectedRows
          ? `table ${wrong.name}: ${wrong.rows} rows in the restore, ${wrong.expectedRows} in the manifest`
          : `table ${wrong.name}: checksum differs from the manifest`,
      );
    }
    verdict.ok = true;
  } catch (error) {
    if (!(error instanceof Mismatch || error instanceof ChainError || error instanceof ObjectCheckError)) {
      // Anything else (a decryption failure, SQL that no longer loads) is also a failed verification.
      logEvent("error", "backup_verification_error", { backupId, ...describeError(error) });
    }
    verdict.reason = (error as Error).message;
  }
  verdict.durationMs = Date.now() - started;
  verdict.checkedAt = new Date().toISOString();
  await record(context, row, verdict);
  return verdict;
}

async function checkObjects(context: BackupContext, link: ChainLink, checked: Map<string, string>): Promise<number> {
  for (const object of link.manifest.objects) {
    const key = `${link.row.prefix}${object.name}`;
    const found = await measureObject(context.bucket, key, object.name);
    if (found.bytes !== object.bytes) {
      throw new ObjectCheckError(
        `object ${object.name} of ${link.row.id}: ${found.bytes} bytes, the manifest says ${object.bytes}`,
      );
    }
    if (found.sha256 !== object.sha256)
      throw new ObjectCheckError(`object ${object.name} of ${link.row.id}: sha256 does not match the manifest`);
    checked.set(key, found.etag);
  }
  return link.manifest.objects.length;
}

async function restoreAndCompare(
  context: BackupContext,
  chain: ChainLink[],
  checked: Map<string, string>,
  options: VerifyOptions,
): Promise<Verification["tables"]> {
  const target = context.config.VERIFY_DATABASE_URL ?? context.config.DATABASE_URL;
  const session = openDirectDatabase(context.config, { databaseUrl: target, max: 1 });
  const client = await session.pool.connect();
  const schema = `ipa_verify_${crypto.randomUUID().replace(/-/g, "").slice(0, 16)}`;
  try {
    // One transaction, rolled back at the end: whatever the statements do, nothing of them stays.
    await client.query("begin");
    await client.query(`create schema ${ident(schema)}`);
    // Only the scratch schema: every unqualified name in the backup lands there.
    await client.query(`set search_path = ${ident(schema)}`);
    for (const setting of TEXT_SETTINGS) await client.query(setting);
    for (const link of chain) {
      for (const object of link.manifest.objects) {
        const encryption = link.manifest.encryption
          ? {
              keyring: keyringOf(context.config),
              keyId: link.manifest.encryption.keyId,
              backupId: link.row.id,
              objectName: object.name,
            }
          : null;
        const key = `${link.row.prefix}${object.name}`;
        for await (const statement of readStatements(context.bucket, key, object.name, encryption, checked.get(key))) {
          await client.query(statement);
        }
      }
    }
    await options.afterLoad?.(client, schema);
    const final = chain[chain.length - 1].manifest;
    const tables: Verification["tables"] = [];
    for (const expected of final.tables) {
      const pk = await primaryKeyOf(client, schema, expected.name);
      const found = (await client.query(checksumQuery(expected.name, pk, expected.chunkRows))).rows[0];
      tables.push({
        name: expected.name,
        rows: Number(found.rows),
        expectedRows: expected.rows,
        checksumMatches: found.checksum === expected.checksum,
      });
    }
    return tables;
  } finally {
    await client.query("rollback").catch(() => {});
    await client.query(`drop schema if exists ${ident(schema)} cascade`).catch(() => {});
    client.release();
    await session.close();
  }
}

async function primaryKeyOf(client: PoolClient, schema: string, table: string): Promise<string[]> {
  const result = await client.query(
    `select a.attname from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any (i.indkey::int2[])
     where i.indrelid = format('%I.%I', $1::text, $2::text)::regclass and i.indisprimary
     order by array_position(i.indkey::int2[], a.attnum)`,
    [schema, table],
  );
  return result.rows.map((row) => row.attname as string);
}

async function record(context: BackupContext, row: BackupRow, verdict: Verification): Promise<void> {
  await context.db
    .update(backups)
    .set({
      status: verdict.ok ? "verified" : "verification_failed",
      verifiedAt: sql`now()`,
      verification: verdict,
      ...(verdict.ok ? {} : { verificationFailures: sql`${backups.verificationFailures} + 1`, reason: verdict.reason }),
    })
    .where(eq(backups.id, row.id));
  if (verdict.ok && row.snapshot) await pruneChangeLog(context, row.snapshot);
  if (!verdict.ok || auditsSuccess(row))
    await auditBackup(context, verdict.ok ? "backup.verify" : "backup.verify_failed", row.id, {
      ok: verdict.ok,
      reason: verdict.reason,
      durationMs: verdict.durationMs,
      objects: verdict.objects,
    });
  if (!verdict.ok)
    await recordNotice(context.db, {
      event: "backup.verification_failed",
      workflowId: null,
      dedupeKey: `backup:${row.id}:verification:${row.verificationFailures + 1}`,
      payload: { backupId: row.id, kind: row.kind, reason: verdict.reason, link: "/admin/backups" },
    });
  if (!verdict.ok)
    logEvent("error", "backup_verification_failed", {
      backupId: row.id,
      kind: row.kind,
      reason: verdict.reason,
      durationMs: verdict.durationMs,
    });
}

/**
 * The change log keeps each change until a verified backup holds it (docs/backups.md): the chain up to a
 * verified backup has been checked, so what its snapshot saw is safe to forget; until then the
 * log still holds what the unverified backups took.
 */
async function pruneChangeLog(context: BackupContext, snapshot: string): Promise<void> {
  await context.db.execute(sql`delete from change_log where pg_visible_in_snapshot(txid, ${snapshot}::pg_snapshot)`);
}
