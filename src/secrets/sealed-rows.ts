/**
 * Secrets as Postgres holds them, still sealed: what an execution copies when it starts and what
 * the consumer reads when it sends. A workflow's own secret overrides the platform's of that name.
 */
import { and, eq, inArray, isNull, or } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { secrets } from "../db/schema";
import type { SealedSecret } from "./sealed";

/** One secret as sealed in Postgres now: the workflow's own, else the platform's. */
export async function currentSealedSecret(
  db: Queryable,
  workflowId: string,
  name: string,
): Promise<SealedSecret | undefined> {
  return (await sealedSecretsFor(db, workflowId, [name]))[name];
}

/**
 * The sealed secrets an execution of `workflowId` may use, by name: the workflow's own first, then
 * the platform's. Copied when the execution starts, so its steps can still send during an outage.
 */
export async function sealedSecretsFor(
  db: Queryable,
  workflowId: string,
  names: string[],
): Promise<Record<string, SealedSecret>> {
  if (names.length === 0) return {};
  const rows = await db
    .select({ id: secrets.id, name: secrets.name, value: secrets.value, workflowId: secrets.workflowId })
    .from(secrets)
    .where(and(inArray(secrets.name, names), or(isNull(secrets.workflowId), eq(secrets.workflowId, workflowId))));
  const out: Record<string, SealedSecret> = {};
  for (const row of rows.filter((r) => r.workflowId === null)) out[row.name] = { id: row.id, sealed: row.value };
  for (const row of rows.filter((r) => r.workflowId === workflowId)) out[row.name] = { id: row.id, sealed: row.value };
  return out;
}
