/**
 * Values too large to store inline (docs/engine.md "Large values"). A step input or output whose stored
 * JSON exceeds 128 KB lives in R2; rows, events and snapshots carry a reference
 * `{ $ref, bytes, sha256, preview }` in its place. Over 10 MB is refused (`output_too_large`).
 *
 * Transitions are synchronous and R2 is not, so a transition that needs a write or a read not done
 * yet throws StorageNeeded: the object rolls the transition back, does the I/O, and runs it again
 * (the same inputs give the same value and hash, so the retry finds what it needs).
 */
import { createHash } from "node:crypto";

export const INLINE_LIMIT_BYTES = 128 * 1024;
export const MAX_VALUE_BYTES = 10 * 1024 * 1024;
const PREVIEW_CHARS = 512;
/** Loaded values kept in memory, by total size. */
const CACHE_BYTES = 32 * 1024 * 1024;

export interface OffloadRef {
  $ref: string;
  bytes: number;
  sha256: string;
  preview: string;
}

export type StorageRequest = { write: { key: string; json: string; sha256: string } } | { read: OffloadRef };

/** A transition needs R2 first; carries what to do. */
export class StorageNeeded extends Error {
  readonly request: StorageRequest;

  constructor(request: StorageRequest) {
    super("the transition needs R2 first");
    this.request = request;
  }
}

/** A value over MAX_VALUE_BYTES. */
export class ValueTooLargeError extends Error {
  readonly bytes: number;

  constructor(bytes: number) {
    super(`the value is ${bytes} bytes; the limit is ${MAX_VALUE_BYTES}`);
    this.bytes = bytes;
  }
}

export const outputKey = (executionId: string, stepId: string, attempt: number) =>
  `outputs/${executionId}/${stepId}/${attempt}.json`;
export const inputKey = (executionId: string, stepId: string, attempt: number) =>
  `inputs/${executionId}/${stepId}/${attempt}.json`;
export const executionOutputKey = (executionId: string, run: number) => `outputs/${executionId}/execution-${run}.json`;
/**
 * An agent attempt's checkpoint, named by its content: a stale consumer's write can never replace
 * the one a reference points to (the conversation holds answers up to 4 MB, a row at most 2 MB).
 */
export const checkpointPrefix = (executionId: string, stepId: string, attempt: number) =>
  `outputs/${executionId}/checkpoints/${stepId}/${attempt}/`;

/** The object's side of large values: what it wrote and read in this isolate's life. */
export class LargeValues {
  private readonly written = new Map<string, string>();
  private readonly cache = new Map<string, { value: unknown; bytes: number }>();
  private cachedBytes = 0;

  /** `value` itself when small, else its reference once it is in R2. */
  store(key: string, value: unknown): unknown {
    const json = JSON.stringify(value ?? null);
    const bytes = byteLength(json);
    if (bytes <= INLINE_LIMIT_BYTES) return value;
    if (bytes > MAX_VALUE_BYTES) throw new ValueTooLargeError(bytes);
    const sha256 = createHash("sha256").update(json).digest("hex");
    if (this.written.get(key) !== sha256) throw new StorageNeeded({ write: { key, json, sha256 } });
    return { $ref: key, bytes, sha256, preview: json.slice(0, PREVIEW_CHARS) } satisfies OffloadRef;
  }

  /** Like `store`, under `prefix` + the value's sha256: a key no other content ever has. */
  storeByContent(prefix: string, value: unknown): unknown {
    const json = JSON.stringify(value ?? null);
    if (byteLength(json) <= INLINE_LIMIT_BYTES) return value;
    return this.store(`${prefix}${createHash("sha256").update(json).digest("hex")}.json`, value);
  }

  load(ref: OffloadRef): unknown {
    const hit = this.cache.get(ref.$ref);
    if (hit) return hit.value;
    throw new StorageNeeded({ read: ref });
  }

  /** Carries out a StorageNeeded request against `bucket`. */
  async fulfil(bucket: R2Bucket, request: StorageRequest): Promise<void> {
    if ("write" in request) {
      const { key, json, sha256 } = request.write;
      await bucket.put(key, json, {
        httpMetadata: { contentType: "application/json" },
        customMetadata: { sha256 },
      });
      this.written.set(key, sha256);
      this.remember(key, JSON.parse(json), byteLength(json));
      return;
    }
    const value = await readOffloaded(bucket, request.read);
    this.remember(request.read.$ref, value, request.read.bytes);
  }

  private remember(key: string, value: unknown, bytes: number): void {
    this.cache.delete(key);
    this.cache.set(key, { value, bytes });
    this.cachedBytes += bytes;
    for (const [oldest, entry] of this.cache) {
      if (this.cachedBytes <= CACHE_BYTES || oldest === key) break;
      this.cache.delete(oldest);
      this.cachedBytes -= entry.bytes;
    }
  }
}

/** Reads an offloaded value and checks it against its reference. */
export async function readOffloaded(bucket: R2Bucket, ref: OffloadRef): Promise<unknown> {
  const object = await bucket.get(ref.$ref);
  if (!object) throw new Error(`stored value ${ref.$ref} is missing`);
  const json = await object.text();
  const sha256 = createHash("sha256").update(json).digest("hex");
  if (sha256 !== ref.sha256) throw new Error(`stored value ${ref.$ref} does not match its hash`);
  return JSON.parse(json);
}

export function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}
