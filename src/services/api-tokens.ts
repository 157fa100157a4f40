/**
 * Managing one's personal API tokens (docs/api.md, docs/security.md): any signed-in user, their own tokens only,
 * each narrowed to scopes of the owner's permissions, at most QUOTA_API_TOKENS_PER_USER live.
 */

import { and, eq, isNull, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record";
import { issueApiToken } from "../auth/api-tokens";
import { DEFAULT_SCOPES, NEVER_SCOPED, PERMISSIONS, type Permission } from "../auth/permissions";
import type { AuthenticatedUser } from "../auth/principal";
import type { Settings } from "../config";
import type { Database } from "../db/client";
import { newestFirst } from "../db/newest-first";
import { apiTokens } from "../db/schema";
import type { AuditContext } from "../db/schema/audit";
import { ForbiddenError, NotFoundError, ValidationError } from "../errors";
import { decodeCursor, toPage } from "./pagination";
import { assertQuota } from "./quotas";

type TokenRow = typeof apiTokens.$inferSelect;

export function toTokenView(row: TokenRow) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: (row.scopes as Permission[] | null) ?? [...DEFAULT_SCOPES],
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

export async function createApiToken(
  db: Database,
  config: Settings,
  user: AuthenticatedUser,
  audit: AuditContext,
  body: { name: string; expiresInDays?: number; scopes?: Permission[] },
) {
  // A leaked token must not be able to outlive its revocation by minting successors.
  if (user.credential === "api_token") throw new ForbiddenError("API tokens are created from a signed-in session");
  const scopes = scopesFor(user, body.scopes);
  return db.transaction(async (tx) => {
    await assertQuota(tx, config, "apiTokens", user);
    const { row, token } = await issueApiToken(tx, user.id, body.name, body.expiresInDays ?? 90, scopes);
    await recordAudit(tx, audit, {
      action: "api_token.create",
      resourceType: "api_token",
      resourceId: row.id,
      after: { name: row.name, scopes, expiresAt: row.expiresAt.toISOString() },
    });
    return { ...toTokenView(row), token };
  });
}

/**
 * A new token's scopes: those asked for (default: every permission a token may carry) that the
 * owner's roles grant. Asking for one the roles lack, or for one no token carries, is a 422.
 */
function scopesFor(user: AuthenticatedUser, asked: Permission[] | undefined): Permission[] {
  if (asked === undefined) return DEFAULT_SCOPES.filter((permission) => user.permissions.includes(permission));
  const problems = [...new Set(asked)].flatMap((permission, index) => {
    if (NEVER_SCOPED.includes(permission))
      return [{ path: `scopes.${index}`, message: `no API token carries ${permission}` }];
    if (!user.permissions.includes(permission))
      return [{ path: `scopes.${index}`, message: `your roles do not grant ${permission}` }];
    return [];
  });
  if (problems.length) throw new ValidationError(problems, "A token's scopes must be permissions you hold");
  return PERMISSIONS.filter((permission) => asked.includes(permission));
}

export async function listApiTokens(
  db: Database,
  user: AuthenticatedUser,
  options: { limit: number; cursor?: string },
) {
  const after = decodeCursor(options.cursor);
  const rows = await db
    .select()
    .from(apiTokens)
    .where(
      and(
        eq(apiTokens.userId, user.id),
        isNull(apiTokens.revokedAt),
        sql`${apiTokens.expiresAt} > now()`,
        after
          ? sql`(${apiTokens.createdAt}, ${apiTokens.id}) < (${after.at}::timestamptz, ${after.id}::uuid)`
          : undefined,
      ),
    )
    .orderBy(...newestFirst(apiTokens.createdAt, apiTokens.id))
    .limit(options.limit + 1);
  return toPage(rows, options.limit, (row) => ({ at: row.createdAt.toISOString(), id: row.id }), toTokenView);
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
