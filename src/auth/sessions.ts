/**
 * Refresh-token sessions. A login opens a family; each refresh token is opaque, stored only as
 * its sha256, and rotated on use. Presenting a rotated token again means it was stolen or
 * replayed, so the whole family is revoked (OAuth 2.0 Security BCP, refresh token rotation).
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import { randomToken, sha256Hex } from "../crypto/encoding";
import type { Queryable } from "../db/client";
import { refreshTokenFamilies, refreshTokens, revokedAccessTokens } from "../db/schema";

export const REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

export type RefreshOutcome =
  | { ok: true; userId: string; familyId: string; refreshToken: string }
  | { ok: false; reason: "unknown" | "expired" | "revoked" | "reused" };

export async function openSession(db: Queryable, userId: string): Promise<{ familyId: string; refreshToken: string }> {
  const expiresAt = new Date(Date.now() + REFRESH_TOKEN_TTL_SECONDS * 1000);
  const [family] = await db
    .insert(refreshTokenFamilies)
    .values({ userId, expiresAt })
    .returning({ id: refreshTokenFamilies.id });
  return { familyId: family.id, refreshToken: await issueRefreshToken(db, family.id, expiresAt) };
}

/** Exchanges a refresh token for a new one in the same family. Run inside a transaction. */
export async function rotateRefreshToken(tx: Queryable, presented: string): Promise<RefreshOutcome> {
  const tokenHash = await sha256Hex(presented);
  const [row] = await tx
    .select({
      familyId: refreshTokens.familyId,
      rotatedAt: refreshTokens.rotatedAt,
      expiresAt: refreshTokens.expiresAt,
      userId: refreshTokenFamilies.userId,
      familyRevokedAt: refreshTokenFamilies.revokedAt,
      familyExpiresAt: refreshTokenFamilies.expiresAt,
    })
    .from(refreshTokens)
    .innerJoin(refreshTokenFamilies, eq(refreshTokenFamilies.id, refreshTokens.familyId))
    .where(eq(refreshTokens.tokenHash, tokenHash))
    .for("update", { of: refreshTokens });
  if (!row) return { ok: false, reason: "unknown" };
  if (row.familyRevokedAt) return { ok: false, reason: "revoked" };
  if (row.rotatedAt) {
    await revokeFamily(tx, row.familyId, "refresh_token_reuse");
    return { ok: false, reason: "reused" };
  }
  if (row.expiresAt.getTime() <= Date.now()) return { ok: false, reason: "expired" };
  await tx.update(refreshTokens).set({ rotatedAt: sql`now()` }).where(eq(refreshTokens.tokenHash, tokenHash));
  const refreshToken = await issueRefreshToken(tx, row.familyId, row.familyExpiresAt);
  return { ok: true, userId: row.userId, familyId: row.familyId, refreshToken };
}

export async function revokeFamily(db: Queryable, familyId: string, reason: string): Promise<void> {
  await db
    .update(refreshTokenFamilies)
    .set({ revokedAt: sql`now()`, revokedReason: reason })
    .where(and(eq(refreshTokenFamilies.id, familyId), isNull(refreshTokenFamilies.revokedAt)));
}

/** Ends every session of a user (deactivation, role change, password change). */
export async function revokeAllSessions(db: Queryable, userId: string, reason: string): Promise<void> {
  await db
    .update(refreshTokenFamilies)
    .set({ revokedAt: sql`now()`, revokedReason: reason })
    .where(and(eq(refreshTokenFamilies.userId, userId), isNull(refreshTokenFamilies.revokedAt)));
}

export async function revokeAccessToken(db: Queryable, jti: string, expiresAt: Date): Promise<void> {
  await db.insert(revokedAccessTokens).values({ jti, expiresAt }).onConflictDoNothing();
}

/**
 * Whether a verified access token may still be used: its user active, its session (family) not
 * revoked and its own id not revoked. One round trip on every authenticated request.
 */
export async function isAccessTokenLive(
  db: Queryable,
  userId: string,
  sessionId: string,
  jti: string,
): Promise<boolean> {
  const result = await db.execute<{ live: boolean }>(sql`
    select (u.is_active
      and exists (select 1 from refresh_token_families f
                  where f.id = ${sessionId} and f.user_id = u.id and f.revoked_at is null)
      and not exists (select 1 from revoked_access_tokens r where r.jti = ${jti})) as live
    from users u where u.id = ${userId}`);
  return result.rows[0]?.live === true;
}

async function issueRefreshToken(db: Queryable, familyId: string, familyExpiresAt: Date): Promise<string> {
  const token = randomToken(32);
  const expiresAt = new Date(Math.min(familyExpiresAt.getTime(), Date.now() + REFRESH_TOKEN_TTL_SECONDS * 1000));
  await db.insert(refreshTokens).values({ tokenHash: await sha256Hex(token), familyId, expiresAt });
  return token;
}
