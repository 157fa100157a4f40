/**
 * The chain a backup restores from: its full base, then every incremental up to it, each one's
 * `previous` naming the one before. Any missing or unfinished link breaks the chain.
 */
import { sha256Hex } from "../crypto/encoding";
import type { Keyring } from "../crypto/keyring";
import type { Database } from "../db/client";
import { type BackupRow, findBackup, isFinished } from "./catalog";
import { MANIFEST_NAME, type Manifest, ManifestSchema } from "./manifest";
import { assertSigned, SignatureError } from "./manifest-signature";

export class ChainError extends Error {}

export interface ChainLink {
  row: BackupRow;
  manifest: Manifest;
}

/** Oldest first: [full, incremental…, target]. */
export async function resolveChain(
  db: Database,
  bucket: R2Bucket,
  target: BackupRow,
  trust: ManifestTrust,
): Promise<ChainLink[]> {
  const chain: ChainLink[] = [];
  let current: BackupRow | null = target;
  while (current) {
    if (!isFinished(current.status)) throw new ChainError(`chain broken: backup ${current.id} is ${current.status}`);
    const manifest = await loadManifest(bucket, current, trust);
    chain.unshift({ row: current, manifest });
    if (manifest.kind === "full") return chain;
    const previousId: string | undefined = manifest.previous?.id;
    if (!previousId) throw new ChainError(`chain broken: incremental ${current.id} names no previous backup`);
    const previous = await findBackup(db, previousId);
    if (!previous) throw new ChainError(`chain broken: backup ${previousId} (before ${current.id}) is gone`);
    if (previous.snapshot !== manifest.previous?.snapshot) {
      throw new ChainError(`chain broken: backup ${previousId} is not the snapshot ${current.id} was built on`);
    }
    current = previous;
  }
  throw new ChainError("chain broken");
}

/**
 * The backup's manifest from R2, trusted only when its bytes hash to what the catalog recorded and
 * its signature verifies with the keyring, and when it is encrypted if the platform encrypts
 * backups. Only then do the object sizes and hashes it lists vouch for anything.
 */
export async function loadManifest(bucket: R2Bucket, row: BackupRow, trust: ManifestTrust): Promise<Manifest> {
  const object = await bucket.get(`${row.prefix}${MANIFEST_NAME}`);
  if (!object) throw new ChainError(`manifest of backup ${row.id} is missing from R2`);
  const text = await object.text();
  if (!row.manifestSha256)
    throw new ChainError(`backup ${row.id} has no manifest hash in the catalog; it cannot be trusted`);
  if ((await sha256Hex(text)) !== row.manifestSha256)
    throw new ChainError(`manifest of backup ${row.id} differs from the one the catalog recorded`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ChainError(`manifest of backup ${row.id} is unreadable`);
  }
  try {
    await assertSigned(raw as object, trust.keyring);
  } catch (error) {
    if (error instanceof SignatureError) throw new ChainError(`manifest of backup ${row.id}: ${error.message}`);
    throw error;
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success || parsed.data.id !== row.id) throw new ChainError(`manifest of backup ${row.id} is unreadable`);
  if (trust.encrypted && !parsed.data.encryption)
    throw new ChainError(`backup ${row.id} is not encrypted, and this platform encrypts its backups`);
  return parsed.data;
}

export interface ManifestTrust {
  keyring: Keyring;
  /** The platform encrypts backups: an unencrypted manifest is refused. */
  encrypted: boolean;
}
