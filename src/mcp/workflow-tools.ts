/**
 * The workflows an MCP caller may start, as tools (SPEC §10): `run_<slug>` for each active
 * workflow with a current version the caller may start, described by the workflow's description
 * and taking the definition's `inputSchema`.
 */
import { and, desc, eq, isNotNull } from "drizzle-orm";
import { changesAll, hasPermission } from "../auth/permissions";
import type { AuthenticatedUser } from "../auth/principal";
import type { Queryable } from "../db/client";
import { workflows, workflowVersions } from "../db/schema";
import type { Definition } from "../engine/definition";

/** The newest this many are offered; older ones stay reachable through the API. */
export const MAX_WORKFLOW_TOOLS = 500;
const MAX_SLUG = 100;
export const RUN_PREFIX = "run_";

export interface WorkflowTool {
  name: string;
  workflowId: string;
  description: string;
  inputSchema: { type: "object"; [key: string]: unknown };
}

export async function workflowTools(db: Queryable, user: AuthenticatedUser): Promise<WorkflowTool[]> {
  if (!hasPermission(user, "executions:create")) return [];
  const rows = await db
    .select({
      id: workflows.id,
      name: workflows.name,
      description: workflows.description,
      definition: workflowVersions.definition,
    })
    .from(workflows)
    .innerJoin(workflowVersions, eq(workflowVersions.id, workflows.currentVersionId))
    .where(
      and(
        eq(workflows.status, "active"),
        isNotNull(workflows.currentVersionId),
        changesAll(user) ? undefined : eq(workflows.ownerId, user.id),
      ),
    )
    .orderBy(desc(workflows.createdAt), desc(workflows.id))
    .limit(MAX_WORKFLOW_TOOLS);
  const taken = new Map<string, number>();
  for (const row of rows) taken.set(slugOf(row.name), (taken.get(slugOf(row.name)) ?? 0) + 1);
  return rows.map((row) => {
    const slug = slugOf(row.name);
    // Two workflows with the same slug both get a short id suffix, so neither name depends on the other's age.
    const name = (taken.get(slug) ?? 0) > 1 ? `${RUN_PREFIX}${slug}_${row.id.slice(0, 8)}` : `${RUN_PREFIX}${slug}`;
    return {
      name,
      workflowId: row.id,
      description: row.description ?? `Runs the workflow "${row.name}"`,
      // Inputs are always objects, and MCP insists the schema says so.
      inputSchema: { ...(row.definition as Definition).inputSchema, type: "object" as const },
    };
  });
}

/** The name lowercased, each run of other characters as one `_`. */
export function slugOf(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "_")
      .replace(/^_+|_+$/g, "")
      .slice(0, MAX_SLUG) || "workflow"
  );
}
