/**
 * Authentication and permission checks. A token is verified locally (signature, algorithm,
 * issuer, audience, expiry) and then against shared state: a deactivated user, a logged-out
 * session or a revoked token is refused at once, on every isolate.
 */
import { createMiddleware } from "hono/factory";
import { hasPermission, type Permission } from "../auth/permissions";
import { isAccessTokenLive } from "../auth/sessions";
import { verifyAccessToken } from "../auth/tokens";
import { settings } from "../config";
import type { AppEnv } from "../env";
import { ForbiddenError, UnauthorizedError } from "../errors";

export const authenticate = createMiddleware<AppEnv>(async function authenticate(c, next) {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header);
  if (!match) throw new UnauthorizedError();
  const user = await verifyAccessToken(settings(c.env), match[1]);
  if (!(await isAccessTokenLive(c.var.db.db, user.id, user.sessionId, user.jti))) {
    throw new UnauthorizedError("The access token has been revoked");
  }
  c.set("user", user);
  await next();
});

/** 403 unless the caller holds `permission` (visibility checks then decide 404 per object). */
export function requirePermission(permission: Permission) {
  return createMiddleware<AppEnv>(async function requirePermissionCheck(c, next) {
    if (!hasPermission(c.var.user, permission)) throw new ForbiddenError(`Requires ${permission}`);
    await next();
  });
}
