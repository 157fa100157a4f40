/**
 * Authentication and permission checks. A token is verified locally (signature, algorithm,
 * issuer, audience, expiry) and then against shared state: a deactivated user, a logged-out
 * session or a revoked token is refused at once, on every isolate.
 */
import type { Context } from "hono";
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

/**
 * The bearer's caller, checked against shared state before the route runs: what every write
 * needs unless it confirms the caller itself (`authenticateBesideReads`). A read (GET, HEAD: no
 * side effects) runs beside the check instead, and answers only once it has passed, so it waits
 * for one round trip to Postgres, not two.
 */
export const authenticate = createMiddleware<AppEnv>(async function authenticate(c, next) {
  const { user, liveness } = await callerOf(c);
  c.set("user", user);
  c.set("confirmCaller", () => liveness);
  if (!READS.has(c.req.method)) await liveness;
  await next();
  await liveness;
});

/**
 * For writes that read before they act: the route's reads go beside the caller's check, and the
 * route awaits `c.var.confirmCaller()` before its first effect (a row written, an object called).
 * Only for routes whose effects are all behind that call (test/auth/liveness-beside-reads.test.ts
 * attacks each with a revoked token).
 */
export const authenticateBesideReads = createMiddleware<AppEnv>(async function authenticateBesideReads(c, next) {
  const { user, liveness } = await callerOf(c);
  c.set("user", user);
  c.set("confirmCaller", () => liveness);
  await next();
  await liveness;
});

const READS = new Set(["GET", "HEAD"]);

async function callerOf(c: Context<AppEnv>): Promise<Caller> {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header);
  if (!match) throw new UnauthorizedError();
  const caller = await principalOf(c.var.db.db, settings(c.env), match[1], {
    waitUntil: (p) => c.executionCtx.waitUntil(p),
    limit: (userId) => limitUser(c, userId),
    limitLookup: () => limitTokenLookup(c),
  });
  // Settled at once, so a refusal that nobody awaits yet is not an unhandled rejection.
  caller.liveness.catch(() => {});
  return caller;
}

export interface PrincipalHooks {
  waitUntil: (promise: Promise<unknown>) => void;
  /** Counts the request against the user's rate limit; throws when it is over. */
  limit: (userId: string) => Promise<void>;
  /** Counts an API token's lookup against its client's limit, before the database is asked. */
  limitLookup?: () => Promise<void>;
}

export interface Caller {
  user: AuthenticatedUser;
  /** Resolves once the credential is known to be live (its user active, nothing revoked); rejects with a 401 otherwise. */
  liveness: Promise<void>;
}

/**
 * The caller a bearer credential names: an access JWT, or a personal API token (`ipa_…`). An API
 * token's lookup is its check; a JWT is verified here and its liveness asked of Postgres, in flight
 * when this returns.
 */
export async function principalOf(
  db: Queryable,
  config: Settings,
  credential: string,
  hooks: PrincipalHooks,
): Promise<Caller> {
  if (credential.startsWith(API_TOKEN_PREFIX)) {
    if (!API_TOKEN_SHAPE.test(credential)) throw new UnauthorizedError("The API token is invalid, expired or revoked");
    await hooks.limitLookup?.();
    const user = await principalOfApiToken(db, credential);
    if (!user) throw new UnauthorizedError("The API token is invalid, expired or revoked");
    await hooks.limit(user.id);
    hooks.waitUntil(touchApiToken(db, user.jti).catch(() => {}));
    return { user, liveness: Promise.resolve() };
  }
  const user = await verifyAccessToken(config, credential);
  // Counted before the shared state is read: a flood from one user costs no database queries.
  await hooks.limit(user.id);
  const liveness = isAccessTokenLive(db, user.id, user.sessionId, user.jti).then((live) => {
    if (!live) throw new UnauthorizedError("The access token has been revoked");
  });
  return { user, liveness };
}

/** 403 unless the caller holds `permission` (visibility checks then decide 404 per object). */
export function requirePermission(permission: Permission) {
  return createMiddleware<AppEnv>(async function requirePermissionCheck(c, next) {
    assertPermission(c.var.user, permission);
    await next();
  });
}
