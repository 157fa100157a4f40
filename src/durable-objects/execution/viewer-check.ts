/**
 * Open streams are checked again every 30 s (docs/api.md): a viewer who logged out, whose API token
 * was revoked, who was deactivated, or who no longer may see the execution (a role taken away) is
 * disconnected, so a revocation reaches live sockets within a minute, not only new ones.
 */
import { sql } from "drizzle-orm";
import { settings } from "../../config";
import { type Database, openPlatformDatabase } from "../../db/client";
import type { Bindings } from "../../env";
import { describeError } from "../../observability/describe-error";
import { logEvent } from "../../observability/log";
import { CLOSE } from "./stream-protocol";
import type { ExecutionRecord } from "./types";
import type { Viewer } from "./viewers";
import { viewersOf } from "./viewers";

export const VIEWER_CHECK_MS = 30_000;

/** The close code each viewer now deserves, when it no longer may watch. */
export async function revokedViewers(
  db: Database,
  record: Pick<ExecutionRecord, "triggeredBy" | "workflowOwnerId">,
  viewers: Viewer[],
): Promise<Map<string, number>> {
  const users = [...new Set(viewers.map((viewer) => viewer.userId))];
  if (users.length === 0) return new Map();
  const { rows } = await db.execute<{ id: string; is_active: boolean; roles: string[] }>(
    sql`select id, is_active, roles from users where id = any(${sql.param(users)}::uuid[])`,
  );
  const sessions = viewers.filter((v) => v.credential === "session" && v.sessionId).map((v) => v.sessionId as string);
  const tokens = viewers.filter((v) => v.credential === "api_token" && v.sessionId).map((v) => v.sessionId as string);
  const live = new Set<string>();
  if (sessions.length) {
    const found = await db.execute<{ id: string }>(
      sql`select id from refresh_token_families where id = any(${sql.param(sessions)}::uuid[]) and revoked_at is null`,
    );
    for (const row of found.rows) live.add(row.id);
  }
  if (tokens.length) {
    const found = await db.execute<{ id: string }>(
      sql`select id from api_tokens where id = any(${sql.param(tokens)}::uuid[]) and revoked_at is null and expires_at > now()`,
    );
    for (const row of found.rows) live.add(row.id);
  }
  const verdicts = new Map<string, number>();
  for (const viewer of viewers) {
    const user = rows.find((row) => row.id === viewer.userId);
    const key = viewerKey(viewer);
    if (!user?.is_active || (viewer.sessionId && !live.has(viewer.sessionId))) verdicts.set(key, CLOSE.badTicket);
    else if (!mayWatch(user.roles, viewer.userId, record)) verdicts.set(key, CLOSE.notVisible);
  }
  return verdicts;
}

export function viewerKey(viewer: Viewer): string {
  return `${viewer.userId}:${viewer.sessionId ?? ""}`;
}

/** docs/security.md: admins and viewers see every execution, users their own. */
function mayWatch(roles: string[], userId: string, record: Pick<ExecutionRecord, "triggeredBy" | "workflowOwnerId">) {
  return (
    roles.includes("admin") ||
    roles.includes("viewer") ||
    userId === record.triggeredBy ||
    userId === record.workflowOwnerId
  );
}

/** Closes the object's open streams whose viewers no longer may watch; a failed check closes none. */
export async function closeRevokedViewers(
  ctx: DurableObjectState,
  env: Bindings,
  record: Pick<ExecutionRecord, "id" | "triggeredBy" | "workflowOwnerId">,
): Promise<void> {
  const open = viewersOf(ctx);
  if (open.length === 0) return;
  const session = openPlatformDatabase(settings(env), { max: 1 });
  try {
    const verdicts = await revokedViewers(
      session.db,
      record,
      open.map(({ viewer }) => viewer),
    );
    for (const { socket, viewer } of open) {
      const code = verdicts.get(viewerKey(viewer));
      if (code) socket.close(code, code === CLOSE.notVisible ? "not visible" : "credentials revoked");
    }
  } catch (error) {
    logEvent("warn", "viewer_check_failed", { executionId: record.id, ...describeError(error) });
  } finally {
    ctx.waitUntil(session.close());
  }
}
