/**
 * The workflows an MCP caller may start, as tools (docs/api.md, docs/security.md): `run_<slug>` for each active
 * workflow with a current version that the caller owns, or that an admin marked `mcp` and the
 * caller may start, described by the workflow's description and taking the definition's
 * `inputSchema`. At most 200, descriptions cut at 1,024 characters, and only each definition's
 * `inputSchema` (when it is small) is read from Postgres: a list costs kilobytes, whatever the
 * definitions weigh.
 */

import { and, eq, isNotNull, or, sql } from "drizzle-orm";
import { changesAll, hasPermission } from "../auth/permissions";
import type { AuthenticatedUser } from "../auth/principal";
import type { Queryable } from "../db/client";
import { newestFirst } from "../db/newest-first";
import { workflows, workflowVersions } from "../db/schema";

/** The newest this many are offered; older ones stay reachable through the API. */
export const MAX_WORKFLOW_TOOLS = 200;
export const MAX_DESCRIPTION = 1024;
/** A larger `inputSchema` is offered as a plain object (the start still checks the real one). */
const MAX_INPUT_SCHEMA_BYTES = 16 * 1024;
const MAX_SLUG = 100;
export const RUN_PREFIX = "run_";

export interface WorkflowToolName {
  name: string;
  workflowId: string;
}

export interface WorkflowTool extends WorkflowToolName {
  description: string;
  inputSchema: { type: "object"; [key: string]: unknown };
}

/** The tools' names alone: what a call needs to find its workflow. */
export async function workflowToolNames(db: Queryable, user: AuthenticatedUser): Promise<WorkflowToolName[]> {
  return named(await offered(db, user, false));
}

export async function workflowTools(db: Queryable, user: AuthenticatedUser): Promise<WorkflowTool[]> {
  const rows = await offered(db, user, true);
  return named(rows).map((tool, index) => {
    const row = rows[index];
    const description = row.description ?? `Runs the workflow "${row.name}"`;
    return {
      ...tool,
      description: description.length > MAX_DESCRIPTION ? `${description.slice(0, MAX_DESCRIPTION - 1)}…` : description,
      // Inputs are always objects, and MCP insists the schema says so.
      inputSchema: { ...(row.inputSchema ?? {}), type: "object" as const },
    };
  });
}

interface OfferedRow {
  id: string;
  name: string;
  description: string | null;
  inputSchema: Record<string, unknown> | null;
}

function offered(db: Queryable, user: AuthenticatedUser, withSchemas: boolean): Promise<OfferedRow[]> {
  if (!hasPermission(user, "executions:create")) return Promise.resolve([]);
  const inputSchema = withSchemas
    ? sql<Record<
        string,
        unknown
      > | null>`case when octet_length((${workflowVersions.definition} -> 'inputSchema')::text)
        <= ${MAX_INPUT_SCHEMA_BYTES} then ${workflowVersions.definition} -> 'inputSchema' end`
    : sql<null>`null`;
  return db
    .select({ id: workflows.id, name: workflows.name, description: workflows.description, inputSchema })
    .from(workflows)
    .innerJoin(workflowVersions, eq(workflowVersions.id, workflows.currentVersionId))
    .where(
      and(
        eq(workflows.status, "active"),
        isNotNull(workflows.currentVersionId),
        // Admins may start any workflow, so theirs and the marked ones; others start only their own.
        changesAll(user) ? or(eq(workflows.ownerId, user.id), eq(workflows.mcp, true)) : eq(workflows.ownerId, user.id),
      ),
    )
    .orderBy(...newestFirst(workflows.createdAt, workflows.id))
    .limit(MAX_WORKFLOW_TOOLS);
}

/** Two workflows with the same slug both get a short id suffix, so neither name depends on the other's age. */
function named(rows: Array<{ id: string; name: string }>): WorkflowToolName[] {
  const taken = new Map<string, number>();
  for (const row of rows) taken.set(slugOf(row.name), (taken.get(slugOf(row.name)) ?? 0) + 1);
  return rows.map((row) => {
    const slug = slugOf(row.name);
    const name = (taken.get(slug) ?? 0) > 1 ? `${RUN_PREFIX}${slug}_${row.id.slice(0, 8)}` : `${RUN_PREFIX}${slug}`;
    return { name, workflowId: row.id };
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
