/**
 * What a start answers, and its Idempotency-Key (docs/api.md): the key's record, kept 24 h with the
 * request's hash, and the replay that answers a repeated request with the execution it started
 * (handing it off again while it is still pending).
 */
import { and, eq, gt, sql } from "drizzle-orm";
import type { Queryable, Transaction } from "../db/client";
import { executions, idempotencyKeys } from "../db/schema";
import type { ExecutionStatus } from "../engine/vocabulary";
import type { Bindings } from "../env";
import { ConflictError } from "../errors";
import type { TraceContext } from "../observability/tracing/trace-context";
import { type ExecutionWithOwner, findExecution } from "./execution-access";
import { handOff, startRequestFromRow } from "./execution-handoff";

export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

export interface Started {
  id: string;
  /** The trace the execution joined, if any. */
  trace: TraceContext | null;
  status: ExecutionStatus;
  streamUrl: string;
  /** False when an idempotent replay returned an existing execution. */
  created: boolean;
  /** The workflow's `singleton` skipped this start: the answer is the execution already going. */
  skipped?: boolean;
  /** The workflow's `debounce` joined this start to the execution waiting for its key (which takes its input). */
  debounced?: boolean;
}

export function streamUrlOf(id: string): string {
  return `/api/v1/executions/${id}/stream`;
}

/** The start's Idempotency-Key, for 24 h; a stale record of the same key (older than that) gives way. */
export async function recordIdempotencyKey(
  tx: Transaction,
  userId: string,
  key: string,
  requestHash: string,
  executionId: string,
  createdAt: Date,
): Promise<void> {
  await tx
    .delete(idempotencyKeys)
    .where(
      and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key), sql`${idempotencyKeys.expiresAt} <= now()`),
    );
  await tx.insert(idempotencyKeys).values({
    userId,
    key,
    requestHash,
    executionId,
    expiresAt: new Date(createdAt.getTime() + IDEMPOTENCY_TTL_MS),
  });
}

/** A replayed start of an execution still pending: its hand-off may have failed, so try it again. */
export async function resumeReplay(db: Queryable, env: Bindings, found: ExecutionWithOwner): Promise<Started> {
  let status = found.row.status;
  if (status === "pending") status = await handOff(env, await startRequestFromRow(db, found));
  return { id: found.row.id, status, streamUrl: streamUrlOf(found.row.id), created: false, trace: found.row.trace };
}

/** docs/workflows.md: a start whose input does not match the definition's `inputSchema` is a 422. */
export async function findReplay(
  db: Queryable,
  env: Bindings,
  userId: string,
  key: string,
  requestHash: string,
): Promise<Started | null> {
  const [record] = await db
    .select({
      executionId: idempotencyKeys.executionId,
      requestHash: idempotencyKeys.requestHash,
    })
    .from(idempotencyKeys)
    .innerJoin(executions, eq(executions.id, idempotencyKeys.executionId))
    .where(
      and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key), gt(idempotencyKeys.expiresAt, sql`now()`)),
    );
  if (!record) return null;
  if (record.requestHash !== requestHash) {
    throw new ConflictError("This Idempotency-Key was used with a different request", "IDEMPOTENCY_KEY_REUSED");
  }
  const found = await findExecution(db, record.executionId);
  if (!found) return null;
  return resumeReplay(db, env, found);
}
