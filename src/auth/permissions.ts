/**
 * Roles and permissions of docs/security.md. Permissions travel in the access token; the reach of a
 * permission ("all" objects or only the caller's "own") follows from the roles.
 */
import type { AuthenticatedUser, Role } from "./principal";

export const PERMISSIONS = [
  "workflows:read",
  "workflows:create",
  "workflows:update",
  "workflows:delete",
  "executions:read",
  "executions:create",
  "executions:retry",
  "executions:cancel",
  "executions:approve",
  "executions:signal",
  "agents:read",
  "agents:create",
  "agents:update",
  "agents:delete",
  "users:manage",
  "secrets:manage",
  "settings:manage",
  "audit:read",
  "backups:manage",
  "metrics:read",
] as const;

export type Permission = (typeof PERMISSIONS)[number];

const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  admin: PERMISSIONS,
  user: [
    "workflows:read",
    "workflows:create",
    "workflows:update",
    "executions:read",
    "executions:create",
    "executions:retry",
    "executions:cancel",
    "executions:approve",
    "executions:signal",
    "agents:read",
  ],
  viewer: ["workflows:read", "executions:read", "agents:read"],
};

export function permissionsFor(roles: readonly Role[]): Permission[] {
  const granted = new Set<Permission>();
  for (const role of roles) for (const permission of ROLE_PERMISSIONS[role]) granted.add(permission);
  return PERMISSIONS.filter((permission) => granted.has(permission));
}

/** Permissions an API token may never carry: a leaked token must not be able to manage users. */
export const NEVER_SCOPED: readonly Permission[] = ["users:manage"];

/** What an API token created without `scopes` may use: everything but what no token carries. */
export const DEFAULT_SCOPES: readonly Permission[] = PERMISSIONS.filter((p) => !NEVER_SCOPED.includes(p));

/** The caller may use `permission`: their roles grant it and, for an API token, its scopes include it. */
export function hasPermission(user: AuthenticatedUser, permission: Permission): boolean {
  return user.permissions.includes(permission) && (user.scopes === null || user.scopes.includes(permission));
}

/** Why the caller may not use `permission`: their roles lack it, or their token's scopes do; null when they may. */
export function permissionGap(user: AuthenticatedUser, permission: Permission): "role" | "scope" | null {
  if (!user.permissions.includes(permission)) return "role";
  if (user.scopes !== null && !user.scopes.includes(permission)) return "scope";
  return null;
}

/** Admins and viewers read every workflow and execution; users read their own. */
export function readsAll(user: Pick<AuthenticatedUser, "roles">): boolean {
  return user.roles.includes("admin") || user.roles.includes("viewer");
}

/** Admins change any object; users change only their own. */
export function changesAll(user: Pick<AuthenticatedUser, "roles">): boolean {
  return user.roles.includes("admin");
}
