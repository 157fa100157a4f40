/**
 * Restores a backup chain into an empty database with stock psql: the full base, then every
 * incremental up to the chosen backup (or up to `until`). Each object is downloaded, checked
 * against the manifest (size, sha256), decrypted if need be, decompressed and piped into psql;
 * then every table's row count and checksum are compared in SQL with the manifest.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { StringDecoder } from "node:string_decoder";
import { createGunzip } from "node:zlib";
import { checksumQuery, TEXT_SETTINGS } from "../../../src/backup/checksum.ts";
import { FrameOpener } from "../../../src/backup/frames.ts";
import type { Manifest } from "../../../src/backup/manifest.ts";
import { assertSigned } from "../../../src/backup/manifest-signature.ts";
import { PsqlGuard } from "../../../src/backup/psql-guard.ts";
import { Keyring } from "../../../src/crypto/keyring.ts";
import { psqlHasRestrict, psqlLoad, psqlQuery } from "../psql.ts";
import type { BackupRef, BackupSource } from "./sources.ts";

export interface RestoreOptions {
  source: BackupSource;
  target: string;
  backupId?: string;
  until?: Date;
  /** ENCRYPTION_KEYS: checks the manifests' signatures and opens encrypted backups. */
  encryptionKeys?: string;
  /** Skips the signature check (with a loud warning): only for backups made before manifests were signed. */
  allowUnsigned?: boolean;
  log: (line: string) => void;
}

export interface RestoreReport {
  chain: Array<{ id: string; kind: string; snapshotAt: string }>;
  tables: number;
  rows: number;
  bytes: number;
  elapsedMs: number;
  mismatches: string[];
}

export async function restore(options: RestoreOptions): Promise<RestoreReport> {
  const started = Date.now();
  const chain = await resolveChain(options);
  await assertTrusted(chain, options);
  const final = chain[chain.length - 1].manifest;
  options.log(
    `restoring ${chain.map((link) => `${link.kind} ${link.id} (${link.snapshotAt})`).join(" → ")} from ${options.source.describe}`,
  );
  await assertEmpty(options.target);

  const totalTables = final.tables.length;
  let tablesDone = 0;
  let rowsDone = 0;
  let bytes = 0;
  const scratch = await mkdtemp(join(tmpdir(), "ipa-restore-"));
  scratchDirectories.add(scratch);
  const restrictKey = (await psqlHasRestrict()) ? randomBytes(24).toString("hex") : undefined;
  if (!restrictKey) options.log("warning: this psql has no \\restrict; relying on the meta-command scan alone");
  try {
    for (const link of chain) {
      for (const object of link.manifest.objects) {
        const file = join(scratch, object.name);
        await download(options.source, link, object, file);
        bytes += object.bytes;
        const stored = createReadStream(file);
        const sql = guarded(object.name);
        const feeding = link.manifest.encryption
          ? pipeline(stored, decrypter(link, object.name, options.encryptionKeys), createGunzip(), sql)
          : pipeline(stored, createGunzip(), sql);
        await Promise.all([feeding, psqlLoad(options.target, sql, restrictKey)]);
        await rm(file);
        if (object.role === "data") tablesDone++;
        rowsDone += object.rows ?? 0;
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        const what = object.table
          ? `${object.table}: ${object.rows} rows`
          : object.role === "changes"
            ? `${object.rows} changed rows`
            : object.role;
        options.log(
          `  ${object.name.padEnd(36)} ${what} — ${tablesDone}/${totalTables} tables, ${rowsDone} rows, ${seconds} s`,
        );
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
    scratchDirectories.delete(scratch);
  }
  await markMigrated(options.target, final);
  const mismatches = await compare(options.target, final);
  return {
    chain: chain.map((link) => ({ id: link.id, kind: link.kind, snapshotAt: link.snapshotAt })),
    tables: totalTables,
    rows: final.tables.reduce((sum, table) => sum + table.rows, 0),
    bytes,
    elapsedMs: Date.now() - started,
    mismatches,
  };
}

/** [full, incremental…] ending at the chosen backup, cut at `until` when given. */
async function resolveChain(options: RestoreOptions): Promise<BackupRef[]> {
  let id = options.backupId;
  if (!id) {
    if (!options.until) throw new Error("give --backup <id>, --until <time>, or both");
    const until = options.until.toISOString();
    const chosen = (await options.source.finished()).find((backup) => backup.snapshotAt <= until);
    await assertFresh(options, chosen ?? null, until);
    id = chosen?.id;
    if (!id) throw new Error(`no finished backup was taken before ${until}`);
  }
  const chain: BackupRef[] = [];
  for (let ref = await options.source.backup(id); ; ) {
    chain.unshift(ref);
    if (ref.manifest.kind === "full") break;
    const previous = ref.manifest.previous;
    if (!previous) throw new Error(`chain broken: ${ref.id} names no previous backup`);
    const before = await options.source.backup(previous.id);
    if (before.manifest.snapshot !== previous.snapshot)
      throw new Error(`chain broken: ${previous.id} is not what ${ref.id} was built on`);
    ref = before;
  }
  if (!options.until) return chain;
  const until = options.until.getTime();
  const upTo = chain.filter((link) => new Date(link.snapshotAt).getTime() <= until);
  if (upTo.length === 0) throw new Error(`the chain's full backup was taken after ${options.until.toISOString()}`);
  return upTo;
}

/**
 * Picked by time from a bucket read directly, the newest backup before `until` must be as new as
 * the catalog's: a bucket someone rolled back (newer manifests deleted) would otherwise restore an
 * older state without a word. When the platform cannot be asked, the restore says so loudly.
 */
async function assertFresh(
  options: RestoreOptions,
  chosen: { id: string; snapshotAt: string } | null,
  until: string,
): Promise<void> {
  if (!options.source.catalog) return;
  const catalog = await options.source.catalog();
  if (catalog === null) {
    options.log(
      `WARNING: the platform's catalog could not be reached: cannot check that ${options.source.describe} holds the newest backup before ${until}; restoring what the bucket holds`,
    );
    return;
  }
  const newest = catalog
    .filter((backup) => backup.snapshotAt <= until)
    .sort((a, b) => b.snapshotAt.localeCompare(a.snapshotAt))[0];
  if (newest && (!chosen || chosen.snapshotAt < newest.snapshotAt))
    throw new Error(
      `${options.source.describe} holds no backup as new as the catalog's newest before ${until} (${newest.id} at ${newest.snapshotAt}; the bucket's is ${chosen ? `${chosen.id} at ${chosen.snapshotAt}` : "none"}): it may have been rolled back. Restore through the platform, or name the backup with --backup`,
    );
}

/**
 * Every manifest must carry a signature made with a key of ENCRYPTION_KEYS over exactly its
 * contents, so the object sizes and hashes it lists can be trusted; `--allow-unsigned` skips this.
 */
async function assertTrusted(chain: BackupRef[], options: RestoreOptions): Promise<void> {
  if (options.allowUnsigned) {
    options.log(
      "WARNING: --allow-unsigned: the manifests' signatures are NOT checked; anyone who could write the bucket could have changed this backup",
    );
    return;
  }
  if (!options.encryptionKeys)
    throw new Error(
      "set ENCRYPTION_KEYS to check the manifests' signatures (or pass --allow-unsigned for an unsigned backup)",
    );
  for (const link of chain) {
    const keyId = (link.raw as { signature?: { keyId?: string } }).signature?.keyId;
    if (!keyId)
      throw new Error(
        `backup ${link.id}: the manifest is not signed (pass --allow-unsigned only for a backup made before signing)`,
      );
    try {
      await assertSigned(link.raw as object, Keyring.fromSettings(options.encryptionKeys, keyId));
    } catch (error) {
      throw new Error(`backup ${link.id}: ${(error as Error).message}`);
    }
  }
}

/** Passes SQL through to psql only while no line holds a meta-command. */
function guarded(objectName: string): Transform {
  const guard = new PsqlGuard();
  const decoder = new StringDecoder("utf8");
  const check = (text: string, callback: (error?: Error | null) => void, run: () => void) => {
    try {
      guard.push(text);
      run();
    } catch (error) {
      callback(new Error(`object ${objectName}: ${(error as Error).message}; refused before psql saw it`));
    }
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      check(decoder.write(chunk), callback, () => callback(null, chunk));
    },
    flush(callback) {
      check(decoder.end(), callback, () => {
        guard.finish();
        callback();
      });
    },
  });
}

/** Temporary directories still in use, removed if the process is stopped (see scripts/restore.ts). */
export const scratchDirectories = new Set<string>();

async function assertEmpty(target: string): Promise<void> {
  const [[tables]] = await psqlQuery(target, "select count(*) from pg_tables where schemaname = 'public'");
  if (Number(tables) > 0) throw new Error("the target database is not empty; restore into a new database");
}

async function download(
  source: BackupSource,
  link: BackupRef,
  object: Manifest["objects"][number],
  file: string,
): Promise<void> {
  const hash = createHash("sha256");
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(await source.object(link, object.name), counter, createWriteStream(file));
  if (size !== object.bytes)
    throw new Error(`object ${object.name} of ${link.id}: ${size} bytes, the manifest says ${object.bytes}`);
  if (hash.digest("hex") !== object.sha256)
    throw new Error(`object ${object.name} of ${link.id}: sha256 does not match the manifest`);
}

function decrypter(link: BackupRef, objectName: string, keysJson: string | undefined): Transform {
  const encryption = link.manifest.encryption;
  if (!encryption) throw new Error("not encrypted");
  if (!keysJson) throw new Error(`backup ${link.id} is encrypted with key "${encryption.keyId}": set ENCRYPTION_KEYS`);
  const opener = new FrameOpener({
    keyring: Keyring.fromSettings(keysJson, encryption.keyId),
    keyId: encryption.keyId,
    backupId: link.id,
    objectName,
  });
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      opener.push(new Uint8Array(chunk)).then((plain) => callback(null, Buffer.concat(plain)), callback);
    },
    flush(callback) {
      opener.finish().then((plain) => callback(null, Buffer.concat(plain)), callback);
    },
  });
}

/** Records the schema's migrations, so `npm run db:migrate` against the restore applies only newer ones. */
async function markMigrated(target: string, manifest: Manifest): Promise<void> {
  if (manifest.migrations.length === 0) return;
  const values = manifest.migrations.map((m) => `('${m.hash.replace(/'/g, "''")}', ${m.createdAt})`).join(", ");
  await psqlQuery(
    target,
    `create schema if not exists drizzle;
     create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint);
     insert into drizzle.__drizzle_migrations (hash, created_at) values ${values};`,
  );
}

async function compare(target: string, manifest: Manifest): Promise<string[]> {
  const mismatches: string[] = [];
  for (const table of manifest.tables) {
    const pk = (
      await psqlQuery(
        target,
        `select a.attname from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any (i.indkey::int2[])
       where i.indrelid = 'public.${table.name.replace(/'/g, "''")}'::regclass and i.indisprimary
       order by array_position(i.indkey::int2[], a.attnum)`,
      )
    ).map(([name]) => name);
    const [[rows, checksum]] = await psqlQuery(
      target,
      `${TEXT_SETTINGS.join("; ")}; ${checksumQuery(table.name, pk, table.chunkRows)}`,
    );
    if (Number(rows) !== table.rows) mismatches.push(`${table.name}: ${rows} rows, the manifest says ${table.rows}`);
    else if (checksum !== table.checksum) mismatches.push(`${table.name}: checksum differs from the manifest`);
  }
  return mismatches;
}
