/**
 * The chain a backup restores from: its full base, then every incremental up to it, each one's
 * `previous` naming the one before. Any missing or unfinished link breaks the chain.
 */
import type { Database } from "../db/client";
import { type BackupRow, findBackup } from "./catalog";
import { MANIFEST_NAME, type Manifest, ManifestSchema } from "./manifest";

export class ChainError extends Error {}

export interface ChainLink {
  row: BackupRow;
  manifest: Manifest;
}

const USABLE = new Set(["completed", "verified", "verification_failed"]);

/** Oldest first: [full, incremental…, target]. */
export async function resolveChain(db: Database, bucket: R2Bucket, target: BackupRow): Promise<ChainLink[]> {
  const chain: ChainLink[] = [];
  let current: BackupRow | null = target;
  while (current) {
    if (!USABLE.has(current.status)) throw new ChainError(`chain broken: backup ${current.id} is ${current.status}`);
    const manifest = await loadManifest(bucket, current);
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

export async function loadManifest(bucket: R2Bucket, row: BackupRow): Promise<Manifest> {
  const object = await bucket.get(`${row.prefix}${MANIFEST_NAME}`);
  if (!object) throw new ChainError(`manifest of backup ${row.id} is missing from R2`);
  const parsed = ManifestSchema.safeParse(await object.json().catch(() => null));
  if (!parsed.success || parsed.data.id !== row.id) throw new ChainError(`manifest of backup ${row.id} is unreadable`);
  return parsed.data;
}
