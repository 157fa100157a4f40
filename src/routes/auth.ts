/** /auth: login, refresh, logout, me (docs/api.md). */

import { createRoute } from "@hono/zod-openapi";
import { hasPermission, PERMISSIONS } from "../auth/permissions";
import { settings } from "../config";
import { UnauthorizedError } from "../errors";
import { auditContextOf } from "../middleware/audit-context";
import { authenticate } from "../middleware/auth";
import { login, logout, refresh } from "../services/auth";
import { getUser, toUserView } from "../services/users";
import { clearRefreshCookie, inCookie, refreshCookieOf } from "./refresh-cookie";
import { createRouter } from "./router";
import { bearer, errors, json, jsonBody, noAuth, refreshAuth } from "./schemas/common";
import { LoginBody, MeSchema, RefreshBody, TokenPairSchema } from "./schemas/users";

const loginRoute = createRoute({
  method: "post",
  path: "/login",
  operationId: "login",
  security: noAuth,
  tags: ["auth"],
  summary: "Exchange email (or username) and password for tokens",
  request: { body: jsonBody(LoginBody) },
  responses: { 200: json(TokenPairSchema), 401: errors[401], 422: errors[422], 429: errors[429] },
});

const refreshRoute = createRoute({
  method: "post",
  path: "/refresh",
  operationId: "refreshSession",
  security: refreshAuth,
  tags: ["auth"],
  summary: "Rotate a refresh token; reusing a rotated one revokes its session",
  request: { body: jsonBody(RefreshBody, false) },
  responses: { 200: json(TokenPairSchema), 401: errors[401], 422: errors[422] },
});

const logoutRoute = createRoute({
  method: "post",
  path: "/logout",
  operationId: "logout",
  tags: ["auth"],
  summary: "Revoke this access token and its session",
  security: bearer,
  middleware: [authenticate],
  responses: { 204: { description: "Logged out" }, 401: errors[401] },
});

const meRoute = createRoute({
  method: "get",
  path: "/me",
  operationId: "getMe",
  tags: ["auth"],
  summary: "The caller",
  security: bearer,
  middleware: [authenticate],
  responses: { 200: json(MeSchema), 401: errors[401] },
});

export const authRoutes = createRouter()
  .openapi(loginRoute, async (c) => {
    const body = c.req.valid("json");
    const pair = await login(c.var.db.db, settings(c.env), auditContextOf(c), {
      identifier: body.email ?? body.username ?? "",
      password: body.password,
    });
    c.header("Cache-Control", "no-store");
    return c.json(body.refreshIn === "cookie" ? inCookie(c, pair) : pair, 200);
  })
  .openapi(refreshRoute, async (c) => {
    const presented = c.req.valid("json")?.refreshToken;
    const fromCookie = presented === undefined;
    const token = presented ?? refreshCookieOf(c);
    if (!token) throw new UnauthorizedError("No refresh token: send one, or sign in again");
    const pair = await refresh(c.var.db.db, settings(c.env), auditContextOf(c), token).catch((error) => {
      // A cookie that no longer works is cleared with the refusal, the page's session marker with it.
      if (fromCookie && error instanceof UnauthorizedError) clearRefreshCookie(c);
      throw error;
    });
    c.header("Cache-Control", "no-store");
    return c.json(fromCookie ? inCookie(c, pair) : pair, 200);
  })
  .openapi(logoutRoute, async (c) => {
    await logout(c.var.db.db, auditContextOf(c), c.var.user);
    clearRefreshCookie(c);
    return c.body(null, 204);
  })
  .openapi(meRoute, async (c) => {
    const user = toUserView(await getUser(c.var.db.db, c.var.user.id));
    const caller = c.var.user;
    const permissions = PERMISSIONS.filter((permission) => hasPermission(caller, permission));
    return c.json({ ...user, permissions, scopes: caller.scopes }, 200);
  });
