/**
 * Secrets as Postgres holds them, still sealed: what the sender reads as it sends, and what version
 * creation checks a definition may name. A workflow's steps may send the workflow's own secret, else a
 * platform secret when the workflow's owner is an admin or the secret is shared with users;
 * agents' tools send platform secrets only.
 */
import { and, eq, inArray, isNull, or, sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { secrets } from "../db/schema";
import type { SealedSecret, SecretScope } from "./sealed";

type SecretRow = Pick<typeof secrets.$inferSelect, "id" | "name" | "value" | "workflowId" | "allowedHosts">;

const sealedOf = (row: SecretRow): SealedSecret => ({ id: row.id, sealed: row.value, allowedHosts: row.allowedHosts });

/** The sealed secrets of `names` that `scope` may send, by name (a workflow's own first). */
export async function sealedSecretsIn(
  db: Queryable,
  scope: SecretScope,
  names: string[],
): Promise<Record<string, SealedSecret>> {
  if (names.length === 0) return {};
  const usable =
    scope.kind === "tools"
      ? isNull(secrets.workflowId)
      : or(
          eq(secrets.workflowId, scope.workflowId),
          and(
            isNull(secrets.workflowId),
            or(
              eq(secrets.sharedWithUsers, true),
              sql`exists (select 1 from workflows w join users u on u.id = w.owner_id
                where w.id = ${scope.workflowId} and 'admin' = any(u.roles))`,
            ),
          ),
        );
  const rows: SecretRow[] = await db
    .select({
      id: secrets.id,
      name: secrets.name,
      value: secrets.value,
      workflowId: secrets.workflowId,
      allowedHosts: secrets.allowedHosts,
    })
    .from(secrets)
    .where(and(inArray(secrets.name, names), usable));
  const out: Record<string, SealedSecret> = {};
  for (const row of rows.filter((r) => r.workflowId === null)) out[row.name] = sealedOf(row);
  for (const row of rows.filter((r) => r.workflowId !== null)) out[row.name] = sealedOf(row);
  return out;
}

/** One secret as sealed in Postgres now, if `scope` may send it. */
export async function currentSealedSecret(
  db: Queryable,
  scope: SecretScope,
  name: string,
): Promise<SealedSecret | undefined> {
  return (await sealedSecretsIn(db, scope, [name]))[name];
}
