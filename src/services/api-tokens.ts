/** Managing one's personal API tokens (SPEC §3): any signed-in user, their own tokens only. */
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { type AuditContext, recordAudit } from "../audit/record";
import { issueApiToken } from "../auth/api-tokens";
import type { AuthenticatedUser } from "../auth/principal";
import type { Database } from "../db/client";
import { apiTokens } from "../db/schema";
import { ForbiddenError, NotFoundError } from "../errors";

type TokenRow = typeof apiTokens.$inferSelect;

export function toTokenView(row: TokenRow) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

export async function createApiToken(
  db: Database,
  user: AuthenticatedUser,
  audit: AuditContext,
  body: { name: string; expiresInDays?: number },
) {
  // A leaked token must not be able to outlive its revocation by minting successors.
  if (user.credential === "api_token") throw new ForbiddenError("API tokens are created from a signed-in session");
  return db.transaction(async (tx) => {
    const { row, token } = await issueApiToken(tx, user.id, body.name, body.expiresInDays ?? 90);
    await recordAudit(tx, audit, {
      action: "api_token.create",
      resourceType: "api_token",
      resourceId: row.id,
      after: { name: row.name, expiresAt: row.expiresAt.toISOString() },
    });
    return { ...toTokenView(row), token };
  });
}

export async function listApiTokens(db: Database, user: AuthenticatedUser) {
  const rows = await db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.userId, user.id), isNull(apiTokens.revokedAt), sql`${apiTokens.expiresAt} > now()`))
    .orderBy(desc(apiTokens.createdAt));
  return { items: rows.map(toTokenView), nextCursor: null };
}

/** Revokes one of the caller's tokens; someone else's is a 404. */
export async function revokeApiToken(db: Database, user: AuthenticatedUser, audit: AuditContext, id: string) {
  await db.transaction(async (tx) => {
    const [row] = await tx
      .update(apiTokens)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(apiTokens.id, id), eq(apiTokens.userId, user.id), isNull(apiTokens.revokedAt)))
      .returning();
    if (!row) throw new NotFoundError("API token");
    await recordAudit(tx, audit, { action: "api_token.revoke", resourceType: "api_token", resourceId: id });
  });
}
