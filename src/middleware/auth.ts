/**
 * Authentication and permission checks. A token is verified locally (signature, algorithm,
 * issuer, audience, expiry) and then against shared state: a deactivated user, a logged-out
 * session or a revoked token is refused at once, on every isolate.
 */
import { createMiddleware } from "hono/factory";
import { API_TOKEN_PREFIX, API_TOKEN_SHAPE, principalOfApiToken, touchApiToken } from "../auth/api-tokens";
import { assertPermission } from "../auth/assert-permission";
import type { Permission } from "../auth/permissions";
import type { AuthenticatedUser } from "../auth/principal";
import { isAccessTokenLive } from "../auth/sessions";
import { verifyAccessToken } from "../auth/tokens";
import { type Settings, settings } from "../config";
import type { Queryable } from "../db/client";
import { UnauthorizedError } from "../errors";
import type { AppEnv } from "./app-env";
import { limitTokenLookup, limitUser } from "./rate-limit";

export const authenticate = createMiddleware<AppEnv>(async function authenticate(c, next) {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header);
  if (!match) throw new UnauthorizedError();
  const user = await principalOf(c.var.db.db, settings(c.env), match[1], {
    waitUntil: (p) => c.executionCtx.waitUntil(p),
    limit: (userId) => limitUser(c, userId),
    limitLookup: () => limitTokenLookup(c),
  });
  c.set("user", user);
  await next();
});

export interface PrincipalHooks {
  waitUntil: (promise: Promise<unknown>) => void;
  /** Counts the request against the user's rate limit; throws when it is over. */
  limit: (userId: string) => Promise<void>;
  /** Counts an API token's lookup against its client's limit, before the database is asked. */
  limitLookup?: () => Promise<void>;
}

/** The caller a bearer credential names: an access JWT, or a personal API token (`ipa_…`). */
export async function principalOf(
  db: Queryable,
  config: Settings,
  credential: string,
  hooks: PrincipalHooks,
): Promise<AuthenticatedUser> {
  if (credential.startsWith(API_TOKEN_PREFIX)) {
    if (!API_TOKEN_SHAPE.test(credential)) throw new UnauthorizedError("The API token is invalid, expired or revoked");
    await hooks.limitLookup?.();
    const user = await principalOfApiToken(db, credential);
    if (!user) throw new UnauthorizedError("The API token is invalid, expired or revoked");
    await hooks.limit(user.id);
    hooks.waitUntil(touchApiToken(db, user.jti).catch(() => {}));
    return user;
  }
  const user = await verifyAccessToken(config, credential);
  // Counted before the shared state is read: a flood from one user costs no database queries.
  await hooks.limit(user.id);
  if (!(await isAccessTokenLive(db, user.id, user.sessionId, user.jti))) {
    throw new UnauthorizedError("The access token has been revoked");
  }
  return user;
}

/** 403 unless the caller holds `permission` (visibility checks then decide 404 per object). */
export function requirePermission(permission: Permission) {
  return createMiddleware<AppEnv>(async function requirePermissionCheck(c, next) {
    assertPermission(c.var.user, permission);
    await next();
  });
}
