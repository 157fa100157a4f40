/**
 * The workflows a definition's `workflow` steps name (docs/workflows.md "Control flow"): each must be
 * one its owner may start, named by id or by the exact name of one of the owner's own workflows.
 * Refusals share one message, so an answer does not tell whether a workflow it may not see exists.
 */
import { and, eq } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { workflows } from "../db/schema";
import { AppError } from "../errors";
import { authorize } from "./access";
import { principalById } from "./users";
import { findWorkflow, ownershipOf } from "./workflows";

/** Of `references`, why each the owner may not start (absent: they may). */
export async function unstartableWorkflows(
  db: Queryable,
  ownerId: string,
  references: string[],
): Promise<Map<string, string>> {
  const refused = new Map<string, string>();
  const owner = await principalById(db, ownerId);
  for (const reference of references) {
    const why = `no workflow "${reference}" that the workflow's owner may start`;
    const workflowId = owner ? await workflowIdOf(db, reference, owner.id) : null;
    const found = workflowId ? await findWorkflow(db, workflowId) : null;
    if (!owner || !found) {
      refused.set(reference, why);
      continue;
    }
    try {
      authorize(owner, ownershipOf(found.row), "Workflow", "executions:create");
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      refused.set(reference, why);
    }
  }
  return refused;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A workflow named by id, or by its exact name among the acting user's own workflows (names are
 * not unique across users; a name two of theirs share names neither).
 */
export async function workflowIdOf(db: Queryable, reference: string, ownerId: string): Promise<string | null> {
  if (UUID.test(reference)) return reference;
  const found = await db
    .select({ id: workflows.id })
    .from(workflows)
    .where(and(eq(workflows.name, reference), eq(workflows.ownerId, ownerId)))
    .limit(2);
  return found.length === 1 ? found[0].id : null;
}
