/** User administration (users:manage): list, create, change, deactivate. */

import { and, eq, ne, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record";
import { revokeApiTokensOf } from "../auth/api-tokens";
import { hashPassword } from "../auth/password";
import { permissionsFor } from "../auth/permissions";
import type { AuthenticatedUser, Role } from "../auth/principal";
import { revokeAllSessions } from "../auth/sessions";
import type { Database, Queryable } from "../db/client";
import { asConflict, type UniqueConflicts } from "../db/errors";
import { newestFirst } from "../db/newest-first";
import { users } from "../db/schema";
import type { AuditContext } from "../db/schema/audit";
import { ConflictError, NotFoundError } from "../errors";
import { decodeCursor, type Page, toPage } from "./pagination";

export type UserRow = typeof users.$inferSelect;

export interface UserView {
  id: string;
  email: string;
  username: string;
  fullName: string | null;
  roles: Role[];
  isActive: boolean;
  lastLoginAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export function toUserView(row: UserRow): UserView {
  return {
    id: row.id,
    email: row.email,
    username: row.username,
    fullName: row.fullName,
    roles: row.roles,
    isActive: row.isActive,
    lastLoginAt: row.lastLoginAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export interface NewUser {
  email: string;
  username: string;
  password: string;
  fullName?: string;
  roles: Role[];
}

export interface UserChanges {
  email?: string;
  username?: string;
  fullName?: string | null;
  roles?: Role[];
  isActive?: boolean;
  password?: string;
}

export async function listUsers(
  db: Database,
  options: { limit: number; cursor?: string; role?: Role; active?: boolean },
): Promise<Page<UserView>> {
  const after = decodeCursor(options.cursor);
  const rows = await db
    .select()
    .from(users)
    .where(
      and(
        options.role ? sql`${options.role}::user_role = any(${users.roles})` : undefined,
        options.active === undefined ? undefined : eq(users.isActive, options.active),
        after ? sql`(${users.createdAt}, ${users.id}) < (${after.at}::timestamptz, ${after.id}::uuid)` : undefined,
      ),
    )
    .orderBy(...newestFirst(users.createdAt, users.id))
    .limit(options.limit + 1);
  return toPage(rows, options.limit, (r) => ({ at: r.createdAt.toISOString(), id: r.id }), toUserView);
}

export async function getUser(db: Queryable, id: string): Promise<UserRow> {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  if (!row) throw new NotFoundError("User");
  return row;
}

export async function createUser(db: Database, audit: AuditContext, input: NewUser): Promise<UserView> {
  const passwordHash = await hashPassword(input.password);
  try {
    return await db.transaction(async (tx) => {
      const [row] = await tx
        .insert(users)
        .values({
          email: input.email,
          username: input.username,
          passwordHash,
          fullName: input.fullName ?? null,
          roles: dedupe(input.roles),
        })
        .returning();
      const view = toUserView(row);
      await recordAudit(tx, audit, { action: "user.create", resourceType: "user", resourceId: row.id, after: view });
      return view;
    });
  } catch (error) {
    throw asConflict(error, CONFLICTS);
  }
}

export async function updateUser(
  db: Database,
  audit: AuditContext,
  id: string,
  changes: UserChanges,
): Promise<UserView> {
  const passwordHash = changes.password ? await hashPassword(changes.password) : undefined;
  try {
    return await db.transaction(async (tx) => {
      const before = await lockUser(tx, id);
      await guardAdminSelfChange(tx, audit, before, changes);
      const [row] = await tx
        .update(users)
        .set({
          email: changes.email,
          username: changes.username,
          fullName: changes.fullName,
          roles: changes.roles ? dedupe(changes.roles) : undefined,
          isActive: changes.isActive,
          passwordHash,
        })
        .where(eq(users.id, id))
        .returning();
      // Tokens carry roles; a change of roles, activity or password ends the user's sessions.
      if (changes.roles || changes.isActive === false || passwordHash) {
        await revokeAllSessions(tx, id, "account_changed");
        await revokeApiTokensOf(tx, id);
      }
      const view = toUserView(row);
      await recordAudit(tx, audit, {
        action: changes.isActive === false ? "user.deactivate" : "user.update",
        resourceType: "user",
        resourceId: id,
        before: toUserView(before),
        after: view,
      });
      return view;
    });
  } catch (error) {
    throw asConflict(error, CONFLICTS);
  }
}

export function deactivateUser(db: Database, audit: AuditContext, id: string): Promise<UserView> {
  return updateUser(db, audit, id, { isActive: false });
}

async function lockUser(tx: Queryable, id: string): Promise<UserRow> {
  const [row] = await tx.select().from(users).where(eq(users.id, id)).for("update");
  if (!row) throw new NotFoundError("User");
  return row;
}

/** The platform must keep an active admin: refuse changes that would remove the last one. */
async function guardAdminSelfChange(tx: Queryable, audit: AuditContext, before: UserRow, changes: UserChanges) {
  const losesAdmin =
    before.roles.includes("admin") &&
    before.isActive &&
    (changes.isActive === false || (changes.roles && !changes.roles.includes("admin")));
  if (!losesAdmin) return;
  if (audit.actorId === before.id)
    throw new ConflictError("Admins cannot remove their own admin access", "SELF_LOCKOUT");
  const [other] = await tx
    .select({ id: users.id })
    .from(users)
    .where(and(ne(users.id, before.id), eq(users.isActive, true), sql`'admin' = any(${users.roles})`))
    .limit(1);
  if (!other) throw new ConflictError("This is the last active admin", "LAST_ADMIN");
}

const CONFLICTS: UniqueConflicts = {
  users_email_key: ["A user with this email exists", "EMAIL_TAKEN"],
  users_username_key: ["A user with this username exists", "USERNAME_TAKEN"],
};

function dedupe<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/** A user as a principal (their current roles), for acting on their behalf; null when inactive or gone. */
export async function principalById(db: Queryable, userId: string): Promise<AuthenticatedUser | null> {
  const [row] = await db.select().from(users).where(eq(users.id, userId));
  if (!row?.isActive) return null;
  return {
    id: row.id,
    email: row.email,
    name: row.fullName ?? row.username,
    roles: row.roles,
    permissions: permissionsFor(row.roles),
    jti: "",
    sessionId: "",
    credential: "session",
    scopes: null,
  };
}
