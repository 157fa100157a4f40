/** The one permission check that throws: 403 FORBIDDEN for a role without it, 403 INSUFFICIENT_SCOPE for a token without it. */
import { ForbiddenError, InsufficientScopeError } from "../errors";
import { type Permission, permissionGap } from "./permissions";
import type { AuthenticatedUser } from "./principal";

export function assertPermission(user: AuthenticatedUser, permission: Permission): void {
  const gap = permissionGap(user, permission);
  if (gap === "role") throw new ForbiddenError(`Requires ${permission}`);
  if (gap === "scope") throw new InsufficientScopeError(permission);
}
