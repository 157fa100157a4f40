/** Finding executions and checking who may see or steer them (docs/security.md "own"). */
import { eq } from "drizzle-orm";
import type { Permission } from "../auth/permissions";
import type { AuthenticatedUser } from "../auth/principal";
import type { Queryable } from "../db/client";
import { executions, workflows, workflowVersions } from "../db/schema";
import { assertVisible, authorize } from "./access";

export type ExecutionRow = typeof executions.$inferSelect;

export interface ExecutionWithOwner {
  row: ExecutionRow;
  workflowOwnerId: string;
  versionNumber: number;
  definition: unknown;
}

/** Executions belong to whoever started them and to the owner of their workflow. */
export const executionOwnership = (found: ExecutionWithOwner) => ({
  ownerIds: [found.row.triggeredBy, found.workflowOwnerId],
});

export async function findExecution(db: Queryable, id: string): Promise<ExecutionWithOwner | null> {
  const [found] = await db
    .select({
      row: executions,
      workflowOwnerId: workflows.ownerId,
      versionNumber: workflowVersions.versionNumber,
      definition: workflowVersions.definition,
    })
    .from(executions)
    .innerJoin(workflows, eq(workflows.id, executions.workflowId))
    .innerJoin(workflowVersions, eq(workflowVersions.id, executions.workflowVersionId))
    .where(eq(executions.id, id));
  return found ?? null;
}

export async function visibleExecution(
  db: Queryable,
  user: AuthenticatedUser,
  id: string,
): Promise<ExecutionWithOwner> {
  const found = await findExecution(db, id);
  assertVisible(user, found ? executionOwnership(found) : null, "Execution");
  return found as ExecutionWithOwner;
}

export async function actionableExecution(
  db: Queryable,
  user: AuthenticatedUser,
  id: string,
  permission: Permission,
): Promise<ExecutionWithOwner> {
  const found = await findExecution(db, id);
  authorize(user, found ? executionOwnership(found) : null, "Execution", permission);
  return found as ExecutionWithOwner;
}
