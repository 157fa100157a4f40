/**
 * Personal API tokens (docs/api.md): `ipa_<43 random characters>`, shown once, stored as a sha256.
 * A token acts with its owner's current roles, narrowed to its scopes (never `users:manage`), so a
 * role change applies at once; revocation, expiry and the owner's deactivation refuse it at once,
 * on every isolate.
 */
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import { randomToken, sha256Hex } from "../crypto/encoding";
import type { Queryable } from "../db/client";
import { apiTokens, users } from "../db/schema";
import { DEFAULT_SCOPES, type Permission, permissionsFor } from "./permissions";
import type { AuthenticatedUser, Role } from "./principal";

export const API_TOKEN_PREFIX = "ipa_";
export const API_TOKEN_SHAPE = /^ipa_[A-Za-z0-9_-]{43}$/;

export async function issueApiToken(
  db: Queryable,
  userId: string,
  name: string,
  expiresInDays: number,
  scopes: Permission[],
) {
  const token = `${API_TOKEN_PREFIX}${randomToken(32)}`;
  const [row] = await db
    .insert(apiTokens)
    .values({
      userId,
      name,
      scopes,
      tokenHash: await sha256Hex(token),
      prefix: token.slice(0, 12),
      expiresAt: new Date(Date.now() + expiresInDays * 86_400_000),
    })
    .returning();
  return { row, token };
}

/** The principal an API token acts as, or null when it is unknown, revoked, expired, or its owner is inactive. */
export async function principalOfApiToken(db: Queryable, token: string): Promise<AuthenticatedUser | null> {
  const [found] = await db
    .select({ tokenId: apiTokens.id, lastUsedAt: apiTokens.lastUsedAt, scopes: apiTokens.scopes, user: users })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(
      and(
        eq(apiTokens.tokenHash, await sha256Hex(token)),
        isNull(apiTokens.revokedAt),
        gt(apiTokens.expiresAt, sql`now()`),
        eq(users.isActive, true),
      ),
    );
  if (!found) return null;
  const roles = found.user.roles as Role[];
  return {
    id: found.user.id,
    email: found.user.email,
    name: found.user.fullName ?? found.user.username,
    roles,
    permissions: permissionsFor(roles),
    jti: found.tokenId,
    sessionId: found.tokenId,
    credential: "api_token",
    // Tokens minted before scopes existed carry every permission a token may.
    scopes: [...((found.scopes as Permission[] | null) ?? DEFAULT_SCOPES)],
  };
}

/** Marks the token used, at most once a minute (a busy CI token must not write on every call). */
export async function touchApiToken(db: Queryable, tokenId: string): Promise<void> {
  await db
    .update(apiTokens)
    .set({ lastUsedAt: sql`now()` })
    .where(
      and(
        eq(apiTokens.id, tokenId),
        sql`(${apiTokens.lastUsedAt} is null or ${apiTokens.lastUsedAt} < now() - interval '1 minute')`,
      ),
    );
}

/** Revokes every token of a user (a role change: docs/api.md). */
export async function revokeApiTokensOf(db: Queryable, userId: string): Promise<void> {
  await db
    .update(apiTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)));
}
