/** Builds the audit context (who, from where) of an HTTP request. */
import type { Context } from "hono";
import type { AuditContext } from "../db/schema/audit";
import type { AppEnv } from "./app-env";

const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/;
const IPV6 = /^[0-9a-fA-F:.]{2,45}$/;

export function auditContextOf(c: Context<AppEnv>, actor?: { id: string; email: string }): AuditContext {
  const user = actor ?? c.get("user");
  const ip = c.req.header("cf-connecting-ip") ?? null;
  return {
    actorId: user?.id ?? null,
    actorEmail: user?.email ?? null,
    // Only a well-formed address reaches the inet column; anything else is dropped.
    ip: ip && (IPV4.test(ip) || (ip.includes(":") && IPV6.test(ip))) ? ip : null,
    userAgent: c.req.header("user-agent") ?? null,
    requestId: c.get("requestId") ?? null,
  };
}
