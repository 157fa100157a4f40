/**
 * Platform secrets (admins, secrets:manage) and workflow secrets (whoever may update the
 * workflow). Values are write-only: sealed with the keyring and bound to their row, listed by name
 * and dates only, never in an answer, a log line or an audit row.
 */
import { and, asc, eq, isNull } from "drizzle-orm";
import { recordAudit } from "../audit/record";
import type { AuthenticatedUser } from "../auth/principal";
import type { Settings } from "../config";
import { keyringOf } from "../crypto/keyring-of";
import type { Database, Queryable } from "../db/client";
import { secrets } from "../db/schema";
import type { AuditContext } from "../db/schema/audit";
import { NotFoundError } from "../errors";
import { type SealedSecret, secretBinding } from "../secrets/sealed";
import { assertQuota } from "./quotas";
import { lockForChange } from "./workflows";

export type { SealedSecret };

export const SECRET_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;

type SecretRow = typeof secrets.$inferSelect;

function toView(row: SecretRow) {
  return {
    name: row.name,
    allowedHosts: row.allowedHosts,
    ...(row.workflowId === null ? { sharedWithUsers: row.sharedWithUsers } : {}),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** What a PUT sets: the value (write-only) and its scope. */
export interface SecretWrite {
  value: string;
  allowedHosts?: string[] | null;
  /** Platform secrets only. */
  sharedWithUsers?: boolean;
}

export type Scope = { kind: "platform" } | { kind: "workflow"; workflowId: string };

const scoped = (scope: Scope) =>
  scope.kind === "platform" ? isNull(secrets.workflowId) : eq(secrets.workflowId, scope.workflowId);

/** A workflow scope is checked against the caller first (404 invisible, 403 not allowed). */
async function authorizeScope(tx: Queryable, user: AuthenticatedUser, scope: Scope): Promise<void> {
  if (scope.kind === "workflow") await lockForChange(tx, user, scope.workflowId, "workflows:update");
}

export async function listSecrets(db: Database, user: AuthenticatedUser, scope: Scope) {
  await authorizeScope(db, user, scope);
  const rows = await db.select().from(secrets).where(scoped(scope)).orderBy(asc(secrets.name));
  return { items: rows.map(toView), nextCursor: null };
}

export async function putSecret(
  db: Database,
  config: Settings,
  user: AuthenticatedUser,
  audit: AuditContext,
  scope: Scope,
  name: string,
  write: SecretWrite,
) {
  return db.transaction(async (tx) => {
    await authorizeScope(tx, user, scope);
    const [existing] = await tx
      .select()
      .from(secrets)
      .where(and(scoped(scope), eq(secrets.name, name)))
      .for("update");
    if (!existing && scope.kind === "workflow") await assertQuota(tx, config, "secrets", { id: scope.workflowId });
    const id = existing?.id ?? crypto.randomUUID();
    const fields = {
      value: await keyringOf(config).encrypt(write.value, secretBinding(id)),
      allowedHosts: write.allowedHosts ?? null,
      sharedWithUsers: scope.kind === "platform" && (write.sharedWithUsers ?? false),
    };
    const [row] = existing
      ? await tx.update(secrets).set(fields).where(eq(secrets.id, id)).returning()
      : await tx
          .insert(secrets)
          .values({
            id,
            name,
            ...fields,
            createdBy: user.id,
            workflowId: scope.kind === "workflow" ? scope.workflowId : null,
          })
          .returning();
    await recordAudit(tx, audit, {
      action: existing ? "secret.update" : "secret.create",
      resourceType: "secret",
      resourceId: id,
      after: {
        name,
        workflowId: row.workflowId,
        allowedHosts: row.allowedHosts,
        sharedWithUsers: row.sharedWithUsers,
      },
    });
    return { created: !existing, view: toView(row) };
  });
}

export async function deleteSecret(
  db: Database,
  user: AuthenticatedUser,
  audit: AuditContext,
  scope: Scope,
  name: string,
) {
  await db.transaction(async (tx) => {
    await authorizeScope(tx, user, scope);
    const [row] = await tx
      .delete(secrets)
      .where(and(scoped(scope), eq(secrets.name, name)))
      .returning();
    if (!row) throw new NotFoundError("Secret");
    await recordAudit(tx, audit, {
      action: "secret.delete",
      resourceType: "secret",
      resourceId: row.id,
      before: { name, workflowId: row.workflowId },
    });
  });
}
