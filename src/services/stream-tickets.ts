/**
 * Stream tickets (docs/api.md): a browser cannot send an Authorization header on a WebSocket, so it
 * trades its token for a single-use, 60-second ticket bound to one user and one execution. Only
 * the ticket's hash is stored; redeeming it is one atomic UPDATE, so a ticket works once, on
 * whichever isolate sees it first.
 */
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import { readsAll } from "../auth/permissions";
import type { AuthenticatedUser, Role } from "../auth/principal";
import { randomToken, sha256Hex } from "../crypto/encoding";
import type { Database } from "../db/client";
import { streamTickets, users } from "../db/schema";
import type { Viewer } from "../durable-objects/execution/viewers";
import { isOwner } from "./access";
import { executionOwnership, findExecution, visibleExecution } from "./execution-access";

export const TICKET_TTL_SECONDS = 60;

/** `confirmCaller` is awaited before the ticket is written: the caller confirmed live (the read goes beside that check). */
export async function issueTicket(
  db: Database,
  user: AuthenticatedUser,
  executionId: string,
  confirmCaller: () => Promise<void> = async () => {},
) {
  await visibleExecution(db, user, executionId);
  await confirmCaller();
  const ticket = randomToken(32);
  const expiresAt = new Date(Date.now() + TICKET_TTL_SECONDS * 1000);
  await db.insert(streamTickets).values({
    ticketHash: await sha256Hex(ticket),
    executionId,
    userId: user.id,
    sessionId: user.sessionId,
    credential: user.credential,
    expiresAt,
  });
  return { ticket, expiresAt: expiresAt.toISOString() };
}

export type Redemption = { ok: true; viewer: Viewer } | { ok: false; close: "bad_ticket" | "not_visible" };

/** Uses up the ticket and checks that its holder may still watch `executionId`. */
export async function redeemTicket(db: Database, ticket: string, executionId: string): Promise<Redemption> {
  const [used] = await db
    .update(streamTickets)
    .set({ usedAt: sql`now()` })
    .where(
      and(
        eq(streamTickets.ticketHash, await sha256Hex(ticket)),
        isNull(streamTickets.usedAt),
        gt(streamTickets.expiresAt, sql`now()`),
      ),
    )
    .returning({
      executionId: streamTickets.executionId,
      userId: streamTickets.userId,
      sessionId: streamTickets.sessionId,
      credential: streamTickets.credential,
    });
  if (!used) return { ok: false, close: "bad_ticket" };
  const [holder] = await db
    .select({ roles: users.roles, isActive: users.isActive })
    .from(users)
    .where(eq(users.id, used.userId));
  if (!holder?.isActive) return { ok: false, close: "bad_ticket" };
  const found = await findExecution(db, executionId);
  const viewer = { id: used.userId, roles: holder.roles as Role[] };
  if (!found || !(readsAll(viewer) || isOwner(viewer, executionOwnership(found))))
    return { ok: false, close: "not_visible" };
  if (used.executionId !== executionId) return { ok: false, close: "bad_ticket" };
  const credential = used.credential === "api_token" ? "api_token" : "session";
  return { ok: true, viewer: { userId: used.userId, sessionId: used.sessionId, credential } };
}
