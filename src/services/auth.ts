/** Login, token refresh and logout (docs/api.md). */
import { eq, or, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record";
import { recordFailure, recordSuccess, reserveGuess } from "../auth/lockout";
import { decoyHash, hashPassword, needsRehash, verifyPassword } from "../auth/password";
import { permissionsFor } from "../auth/permissions";
import type { AuthenticatedUser } from "../auth/principal";
import { openSession, revokeAccessToken, revokeFamily, rotateRefreshToken } from "../auth/sessions";
import { ACCESS_TOKEN_TTL_SECONDS, issueAccessToken } from "../auth/tokens";
import type { Settings } from "../config";
import type { Database } from "../db/client";
import { users } from "../db/schema";
import type { AuditContext } from "../db/schema/audit";
import { UnauthorizedError } from "../errors";
import { revokeApiToken } from "./api-tokens";
import { toUserView, type UserRow, type UserView } from "./users";

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: "Bearer";
  expiresIn: number;
  user: UserView;
}

const BAD_CREDENTIALS = "Invalid credentials";

export async function login(
  db: Database,
  config: Settings,
  audit: AuditContext,
  credentials: { identifier: string; password: string },
): Promise<TokenPair> {
  const identifier = credentials.identifier.trim().toLowerCase();
  const [user] = await db
    .select()
    .from(users)
    .where(or(eq(sql`lower(${users.email})`, identifier), eq(sql`lower(${users.username})`, identifier)))
    .limit(1);
  const guess = { accountId: user?.id ?? null, ip: audit.ip };
  // Counted before the hash: guesses beyond the limit are refused without being checked.
  await reserveGuess(db, config, guess);
  // An unknown user costs the same hash as a known one, so timing does not reveal accounts.
  const matches = await verifyPassword(credentials.password, user?.passwordHash ?? (await decoyHash()));
  if (!user || !matches || !user.isActive) {
    await recordFailure(db, config, guess);
    throw new UnauthorizedError(BAD_CREDENTIALS);
  }
  const rehash = needsRehash(user.passwordHash) ? await hashPassword(credentials.password) : undefined;
  return db.transaction(async (tx) => {
    await recordSuccess(tx, config, guess);
    const [updated] = await tx
      .update(users)
      .set({ lastLoginAt: sql`now()`, passwordHash: rehash })
      .where(eq(users.id, user.id))
      .returning();
    const session = await openSession(tx, user.id);
    const pair = await tokenPair(config, updated, session.familyId, session.refreshToken);
    await recordAudit(
      tx,
      { ...audit, actorId: user.id, actorEmail: user.email },
      {
        action: "auth.login",
        resourceType: "session",
        resourceId: session.familyId,
      },
    );
    return pair;
  });
}

export async function refresh(
  db: Database,
  config: Settings,
  audit: AuditContext,
  presented: string,
): Promise<TokenPair> {
  const result = await db.transaction(async (tx) => {
    const outcome = await rotateRefreshToken(tx, presented);
    if (!outcome.ok) {
      if (outcome.reason === "reused") {
        await recordAudit(tx, audit, { action: "auth.refresh_reuse_detected", resourceType: "session" });
      }
      return { outcome } as const;
    }
    const [user] = await tx.select().from(users).where(eq(users.id, outcome.userId));
    if (!user?.isActive) {
      await revokeFamily(tx, outcome.familyId, "user_inactive");
      return { outcome: { ok: false, reason: "revoked" } } as const;
    }
    const pair = await tokenPair(config, user, outcome.familyId, outcome.refreshToken);
    await recordAudit(
      tx,
      { ...audit, actorId: user.id, actorEmail: user.email },
      {
        action: "auth.refresh",
        resourceType: "session",
        resourceId: outcome.familyId,
      },
    );
    return { outcome, pair } as const;
  });
  // Thrown after commit: a detected reuse must stay revoked even though the caller gets a 401.
  if (!result.pair) throw new UnauthorizedError("The refresh token is invalid");
  return result.pair;
}

export async function logout(db: Database, audit: AuditContext, user: AuthenticatedUser): Promise<void> {
  // Logging out with an API token revokes that token.
  if (user.credential === "api_token") return revokeApiToken(db, user, audit, user.jti);
  await db.transaction(async (tx) => {
    await revokeAccessToken(tx, user.jti, new Date(Date.now() + ACCESS_TOKEN_TTL_SECONDS * 1000));
    await revokeFamily(tx, user.sessionId, "logout");
    await recordAudit(tx, audit, { action: "auth.logout", resourceType: "session", resourceId: user.sessionId });
  });
}

async function tokenPair(config: Settings, user: UserRow, familyId: string, refreshToken: string): Promise<TokenPair> {
  const access = await issueAccessToken(
    config,
    {
      id: user.id,
      email: user.email,
      name: user.fullName ?? user.username,
      roles: user.roles,
      permissions: permissionsFor(user.roles),
    },
    familyId,
  );
  return {
    accessToken: access.token,
    refreshToken,
    tokenType: "Bearer",
    expiresIn: access.expiresIn,
    user: toUserView(user),
  };
}
