/**
 * Object-level access of docs/security.md: an object outside what the caller may read is a 404 (its
 * existence is not revealed); a visible object the caller may not change is a 403.
 */
import { assertPermission } from "../auth/assert-permission";
import { changesAll, hasPermission, type Permission, readsAll } from "../auth/permissions";
import type { AuthenticatedUser } from "../auth/principal";
import { ForbiddenError, NotFoundError } from "../errors";

/** Who an object belongs to: its creator, and for executions also the workflow's owner. */
export interface Ownership {
  ownerIds: Array<string | null>;
}

export function isOwner(user: Pick<AuthenticatedUser, "id">, ownership: Ownership): boolean {
  return ownership.ownerIds.includes(user.id);
}

export function assertVisible(user: AuthenticatedUser, ownership: Ownership | null, what: string): asserts ownership {
  if (!ownership || !(readsAll(user) || isOwner(user, ownership))) throw new NotFoundError(what);
}

export function assertMayAct(user: AuthenticatedUser, ownership: Ownership, permission: Permission): void {
  assertPermission(user, permission);
  if (!changesAll(user) && !isOwner(user, ownership)) throw new ForbiddenError(`Requires ${permission} on this object`);
}

/** Whether the caller could change the object (for views that show writers more than readers). */
export function mayChange(user: AuthenticatedUser, ownership: Ownership, permission: Permission): boolean {
  return hasPermission(user, permission) && (changesAll(user) || isOwner(user, ownership));
}

/** Visible and changeable: the usual guard of a mutating object route. */
export function authorize(user: AuthenticatedUser, ownership: Ownership | null, what: string, permission: Permission) {
  assertVisible(user, ownership, what);
  assertMayAct(user, ownership, permission);
}
