/**
 * Runs one backup (full or incremental) to completion inside a queue-consumer invocation:
 * takes the backup lock on a direct connection (so runs never overlap, and a crashed run's lock
 * dies with its connection), reads one REPEATABLE READ snapshot page by page, writes the objects,
 * then the manifest, and only then marks the catalog row completed.
 */
import type { PoolClient } from "@neondatabase/serverless";
import { recordAudit, SYSTEM_ACTOR } from "../audit/record";
import type { Settings } from "../config";
import { sha256Hex } from "../crypto/encoding";
import { keyringOf } from "../crypto/keyring-of";
import { type Database, openDirectDatabase } from "../db/client";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import {
  type BackupProgress,
  type BackupRow,
  dropIfUnchanged,
  failInterrupted,
  findBackup,
  latestRestorable,
  markCompleted,
  markFailed,
  markRunning,
  recordProgress,
} from "./catalog";
import { EXCLUDED_FROM_DATA, listTables, postDataStatements, preDataStatements, type TableInfo } from "./catalog-dump";
import type { ManifestTrust } from "./chain";
import { checksumQuery, SUM_SCHEME, shiftChecksum, TEXT_SETTINGS } from "./checksum";
import { FRAME_PLAINTEXT_BYTES, type FrameContext } from "./frames";
import { type TableDelta, writeChanges } from "./incremental-changes";
import { MANIFEST_FORMAT, MANIFEST_NAME, type Manifest, type ManifestObject } from "./manifest";
import { signManifest } from "./manifest-signature";
import { ObjectWriter } from "./object-writer";
import { tableMarker } from "./sql-text";
import { dumpTableRows } from "./table-dump";

const LOCK = "hashtext('ipa.backups')";

export class BackupBusyError extends Error {}
/** A run that cannot succeed by trying again (no base to build on). */
export class BackupNotPossibleError extends Error {}

export interface BackupContext {
  config: Settings;
  db: Database;
  bucket: R2Bucket;
  /** STORAGE_REPLICA, when bound: finished backups are copied there (replica.ts). */
  replica?: R2Bucket;
}

/** Runs the backup; null when it was a scheduled incremental with nothing to take (dropIfUnchanged). */
export async function runBackup(context: BackupContext, backupId: string): Promise<BackupRow | null> {
  const row = await findBackup(context.db, backupId);
  if (!row) throw new BackupNotPossibleError(`backup ${backupId} does not exist`);
  if (row.status === "completed" || row.status === "verified" || row.status === "verification_failed") return row;

  const session = openDirectDatabase(context.config, { max: 1 });
  const client = await session.pool.connect();
  try {
    const locked = (await client.query(`select pg_try_advisory_lock(${LOCK}) as locked`)).rows[0].locked;
    if (!locked) throw new BackupBusyError("another backup is running");
    try {
      await failInterrupted(context.db, context.bucket, backupId);
      if (await dropIfUnchanged(context.db, row)) return null;
      await markRunning(context.db, backupId);
      const started = new Date();
      try {
        const manifest = await signManifest(await writeBackup(client, row, context), keyringOf(context.config));
        const text = JSON.stringify(manifest, null, 2);
        await context.bucket.put(`${row.prefix}${MANIFEST_NAME}`, text, {
          httpMetadata: { contentType: "application/json" },
        });
        await markCompleted(context.db, backupId, manifest, await sha256Hex(text), started, Boolean(context.replica));
        if (auditsSuccess(row))
          await auditBackup(context, "backup.complete", backupId, {
            kind: row.kind,
            objects: manifest.objects.length,
            rows: manifest.tables.reduce((n, t) => n + t.rows, 0),
          });
      } catch (error) {
        await client.query("rollback").catch(() => {});
        const reason = error instanceof Error ? error.message : String(error);
        await markFailed(context.db, backupId, reason);
        await auditBackup(context, "backup.fail", backupId, { kind: row.kind, reason });
        logEvent("error", "backup_failed", { backupId, kind: row.kind, ...describeError(error) });
        throw error;
      }
    } finally {
      await client.query(`select pg_advisory_unlock(${LOCK})`).catch(() => {});
    }
  } finally {
    client.release();
    await session.close();
  }
  return (await findBackup(context.db, backupId)) as BackupRow;
}

async function writeBackup(client: PoolClient, row: BackupRow, context: BackupContext): Promise<Manifest> {
  const previous = row.kind === "incremental" ? await latestRestorable(context.db) : null;
  if (row.kind === "incremental" && !previous?.snapshot) {
    throw new BackupNotPossibleError("no completed backup to build an incremental on; take a full backup first");
  }
  await client.query("begin isolation level repeatable read, read only");
  for (const setting of TEXT_SETTINGS) await client.query(setting);
  const info = (
    await client.query(`select pg_current_snapshot()::text as snapshot, now() as at, current_setting('server_version') as version,
      to_regclass('drizzle.__drizzle_migrations') is not null as migrated`)
  ).rows[0];
  const migrations = info.migrated
    ? (await client.query("select hash, created_at::text as created_at from drizzle.__drizzle_migrations order by id"))
        .rows
    : [];
  const previousMigrations = (previous?.manifest as Manifest | null)?.migrations;
  if (row.kind === "incremental" && previousMigrations && !sameMigrations(previousMigrations, migrations)) {
    // The rows would not fit the schema the chain restores: only a full backup carries a migration.
    throw new BackupNotPossibleError(
      `the schema changed since backup ${previous?.id} (${previousMigrations.length} migrations then, ${migrations.length} now); take a full backup`,
    );
  }
  const tables = await listTables(client);
  const dataTables = tables.filter((table) => !EXCLUDED_FROM_DATA.has(table.name) && table.primaryKey.length > 0);
  const progress = (stage: BackupProgress["stage"], tablesDone: number, rows: number, table?: string) =>
    recordProgress(context.db, row.id, {
      stage,
      tablesDone,
      tablesTotal: dataTables.length,
      rows,
      ...(table ? { table } : {}),
    });
  const objects: ManifestObject[] = [];
  const open = (name: string) =>
    new ObjectWriter(context.bucket, `${row.prefix}${name}`, name, encryptionFor(context.config, row.id, name));
  const suffix = backupKeyId(context.config) ? ".sql.gz.enc" : ".sql.gz";
  // An incremental's checksums follow from its changes (SUM_SCHEME); a full one reads every table.
  let changes: Manifest["changes"];
  let deltas = new Map<string, TableDelta>();
  if (row.kind === "incremental") {
    await progress("changes", 0, 0);
    const writer = open(`500-changes${suffix}`);
    const written = await writeChanges(client, dataTables, previous?.snapshot as string, (text) => writer.write(text));
    ({ summary: changes, deltas } = written);
    const stored = await writer.close();
    objects.push({
      name: stored.name,
      role: "changes",
      bytes: stored.bytes,
      sha256: stored.sha256,
      rows: changes.upserts + changes.deletes,
    });
  }
  await progress("checksums", 0, 0);
  const before = new Map(((previous?.manifest as Manifest | null)?.tables ?? []).map((table) => [table.name, table]));
  const tableSums = [];
  for (const table of dataTables) {
    const earlier = row.kind === "incremental" ? before.get(table.name) : undefined;
    const delta = deltas.get(table.name);
    if (earlier?.chunkRows === SUM_SCHEME && (delta !== undefined ? delta !== null : true)) {
      tableSums.push({
        name: table.name,
        rows: earlier.rows + (delta?.rows ?? 0),
        checksum: delta ? shiftChecksum(earlier.checksum, delta.sum) : earlier.checksum,
        chunkRows: SUM_SCHEME,
      });
      continue;
    }
    // A full backup, a table new since the previous backup, a truncate, or an older manifest: read it.
    const sum = (await client.query(checksumQuery(table.name, table.primaryKey))).rows[0];
    tableSums.push({
      name: table.name,
      rows: Number(sum.rows),
      checksum: sum.checksum as string,
      chunkRows: SUM_SCHEME,
    });
  }

  if (row.kind === "full") {
    await progress("schema", 0, 0);
    objects.push(await writeObject(open(`000-schema${suffix}`), "pre-data", await preDataStatements(client, tables)));
    let rows = 0;
    for (const [index, table] of dataTables.entries()) {
      await progress("tables", index, rows, table.name);
      objects.push(
        await writeTable(client, open(`${100 + index}-${table.name}${suffix}`), table, tableSums[index].rows),
      );
      rows += tableSums[index].rows;
    }
    await progress("manifest", dataTables.length, rows);
    objects.push(await writeObject(open(`900-post-data${suffix}`), "post-data", await postDataStatements(client)));
  }
  await client.query("commit");

  const reference = (backup: BackupRow) => ({
    id: backup.id,
    snapshotAt: backup.snapshotAt?.toISOString() ?? "",
    snapshot: backup.snapshot ?? "",
  });
  const base = previous
    ? previous.kind === "full"
      ? previous
      : await findBackup(context.db, previous.baseId ?? "")
    : null;
  return {
    format: MANIFEST_FORMAT,
    id: row.id,
    kind: row.kind,
    createdAt: new Date().toISOString(),
    snapshotAt: new Date(info.at).toISOString(),
    snapshot: info.snapshot,
    serverVersion: info.version,
    migrations: migrations.map((m) => ({ hash: m.hash as string, createdAt: Number(m.created_at) })),
    base: base ? reference(base) : null,
    previous: previous ? reference(previous) : null,
    compression: "gzip",
    encryption: backupKeyId(context.config)
      ? { algorithm: "AES-256-GCM", keyId: backupKeyId(context.config) as string, chunkBytes: FRAME_PLAINTEXT_BYTES }
      : null,
    settings: TEXT_SETTINGS,
    objects,
    tables: tableSums,
    ...(changes ? { changes } : {}),
  };
}

/** Whether two backups' databases had the same migrations applied. */
export function sameMigrations(a: Array<{ hash: string }>, b: Array<{ hash: string }>): boolean {
  return a.length === b.length && a.every((migration, index) => migration.hash === b[index].hash);
}

async function writeObject(
  writer: ObjectWriter,
  role: ManifestObject["role"],
  statements: string[],
): Promise<ManifestObject> {
  for (const text of statements) await writer.write(text);
  const stored = await writer.close();
  return { name: stored.name, role, bytes: stored.bytes, sha256: stored.sha256 };
}

async function writeTable(
  client: PoolClient,
  writer: ObjectWriter,
  table: TableInfo,
  expectedRows: number,
): Promise<ManifestObject> {
  await writer.write(`${tableMarker(table.name, expectedRows)}\n`);
  const rows = await dumpTableRows(client, table, (text) => writer.write(text));
  const stored = await writer.close();
  if (rows !== expectedRows) throw new Error(`table ${table.name}: dumped ${rows} rows, counted ${expectedRows}`);
  return { name: stored.name, role: "data", bytes: stored.bytes, sha256: stored.sha256, table: table.name, rows };
}

/**
 * Whether a backup's success goes to the audit log. A scheduled incremental's does not (the
 * catalog records it): an audit row is a change, so auditing it would make every next minute's
 * interval non-empty, and the schedule would back up its own audit rows forever. Failures, fulls
 * and backups someone asked for are audited.
 */
export function auditsSuccess(row: BackupRow): boolean {
  return row.kind === "full" || row.slot === null;
}

/** The platform's own audit row about a backup (the cron and the jobs queue act for nobody). */
export function auditBackup(
  context: Pick<BackupContext, "db">,
  action: string,
  backupId: string,
  after: unknown,
): Promise<void> {
  return recordAudit(
    context.db,
    { ...SYSTEM_ACTOR, actorEmail: "backups" },
    { action, resourceType: "backup", resourceId: backupId, after },
  );
}

/**
 * The key id new backups are encrypted with: BACKUP_ENCRYPTION_KEY_ID, else ENCRYPTION_KEY_ID (the
 * keyring's current key); null only with BACKUP_ENCRYPTION=off.
 */
export function backupKeyId(config: Settings): string | null {
  if (config.BACKUP_ENCRYPTION === "off") return null;
  return config.BACKUP_ENCRYPTION_KEY_ID ?? keyringOf(config).currentKeyId;
}

/** What a manifest must satisfy to be trusted here (see chain.ts loadManifest). */
export function manifestTrust(config: Settings): ManifestTrust {
  return { keyring: keyringOf(config), encrypted: config.BACKUP_ENCRYPTION === "on" };
}

/** How to seal one object of a new backup (null when backups are not encrypted). */
export function encryptionFor(config: Settings, backupId: string, objectName: string): FrameContext | null {
  const keyId = backupKeyId(config);
  return keyId ? { keyring: keyringOf(config), keyId, backupId, objectName } : null;
}
