/**
 * The refresh cookie (docs/dashboard.md, an API extension for browsers): the dashboard's refresh token
 * lives in an httpOnly, Secure, SameSite=Strict cookie that only the auth routes receive, so no
 * page script can read a long-lived token; the access token stays in the page's memory. Beside it
 * a readable `ipa_session=1` (no secret) tells the page there is a session to restore, so a first
 * visit does not ask for a refresh it knows will fail.
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { REFRESH_TOKEN_TTL_SECONDS } from "../auth/sessions";

const NAME = "ipa_refresh";
const OPTIONS = { path: "/api/v1/auth", httpOnly: true, secure: true, sameSite: "Strict" } as const;
const MARKER = "ipa_session";
const MARKER_OPTIONS = { path: "/", secure: true, sameSite: "Strict" } as const;

/** Moves the pair's refresh token into the cookie; the answer no longer carries it. */
export function inCookie<T extends { refreshToken?: string }>(c: Context, pair: T): Omit<T, "refreshToken"> {
  const { refreshToken, ...rest } = pair;
  if (refreshToken) {
    setCookie(c, NAME, refreshToken, { ...OPTIONS, maxAge: REFRESH_TOKEN_TTL_SECONDS });
    setCookie(c, MARKER, "1", { ...MARKER_OPTIONS, maxAge: REFRESH_TOKEN_TTL_SECONDS });
  }
  return rest;
}

export function refreshCookieOf(c: Context): string | undefined {
  return getCookie(c, NAME);
}

export function clearRefreshCookie(c: Context): void {
  deleteCookie(c, NAME, OPTIONS);
  deleteCookie(c, MARKER, MARKER_OPTIONS);
}
