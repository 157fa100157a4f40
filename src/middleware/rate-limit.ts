/**
 * Rate limits (docs/api.md) through Cloudflare's Rate Limiting bindings: per user on every
 * authenticated route (USER_RATE_LIMIT, 600 a minute), per client IP on login, refresh and the
 * signed hooks (IP_RATE_LIMIT, 60 a minute). Over the limit: 429 RATE_LIMITED with Retry-After.
 * The bindings carry the limits (wrangler.toml); RATE_LIMIT_*_PER_MINUTE name them for operators.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { AppError } from "../errors";
import { clientKey } from "../net/client-address";
import type { AppEnv } from "./app-env";

/** Both bindings count per minute. */
const PERIOD_SECONDS = 60;

export class RateLimitedError extends AppError {
  constructor(scope: string) {
    super(429, "RATE_LIMITED", `Too many requests from this ${scope}; slow down`, {
      headers: { "Retry-After": String(PERIOD_SECONDS) },
    });
  }
}

/** Counts one request of the signed-in caller (called by `authenticate` once it knows who). */
export async function limitUser(c: Context<AppEnv>, userId: string): Promise<void> {
  const binding = c.env.USER_RATE_LIMIT;
  if (binding && !(await binding.limit({ key: `user:${userId}` })).success) throw new RateLimitedError("user");
}

/**
 * Per client (an IPv4 address, an IPv6 /64), for the routes anyone may call. A request without a
 * client address is not counted.
 */
export const limitIp = createMiddleware<AppEnv>(async function limitIp(c, next) {
  const ip = c.req.header("cf-connecting-ip");
  const binding = c.env.IP_RATE_LIMIT;
  if (ip && binding && !(await binding.limit({ key: `ip:${clientKey(ip)}` })).success)
    throw new RateLimitedError("address");
  await next();
});

/**
 * Counts an API token's request against its client's budget before the token is looked up, so
 * tokens that name nobody cost a flood its own limit, not a database query each. The per-user
 * budget (600 a minute) is used: one client's legitimate traffic fits it as one user's does.
 */
export async function limitTokenLookup(c: Context<AppEnv>): Promise<void> {
  const ip = c.req.header("cf-connecting-ip");
  const binding = c.env.USER_RATE_LIMIT;
  if (ip && binding && !(await binding.limit({ key: `api-token:${clientKey(ip)}` })).success)
    throw new RateLimitedError("address");
}
