/** Workflows: list with filters, create, change, archive (docs/security.md, docs/api.md). */

import { and, arrayContains, eq, ilike, ne, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record";
import { changesAll, readsAll } from "../auth/permissions";
import type { AuthenticatedUser } from "../auth/principal";
import type { Settings } from "../config";
import type { Database, Queryable } from "../db/client";
import { newestFirst } from "../db/newest-first";
import { users, type WorkflowSchedule, workflows, workflowVersions } from "../db/schema";
import type { AuditContext } from "../db/schema/audit";
import { ConflictError, ForbiddenError } from "../errors";
import { assertVisible, authorize } from "./access";
import { decodeCursor, type Page, toPage } from "./pagination";
import { assertQuota } from "./quotas";

export type WorkflowRow = typeof workflows.$inferSelect;
export type WorkflowStatus = WorkflowRow["status"];

export interface WorkflowView {
  id: string;
  name: string;
  description: string | null;
  status: WorkflowStatus;
  tags: string[];
  metadata: Record<string, unknown>;
  schedule: WorkflowSchedule | null;
  ownerId: string;
  currentVersionId: string | null;
  currentVersion: number | null;
  webhookSecretSet: boolean;
  mcp: boolean;
  retentionDays: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface WorkflowInput {
  name: string;
  description?: string | null;
  tags?: string[];
  metadata?: Record<string, unknown>;
  schedule?: WorkflowSchedule | null;
  retentionDays?: number | null;
}

export interface WorkflowChanges extends Partial<WorkflowInput> {
  status?: "draft" | "active";
  /** Admins only: offer it to MCP callers besides its owner. */
  mcp?: boolean;
}

export interface WorkflowFilters {
  limit: number;
  cursor?: string;
  status?: WorkflowStatus;
  tags?: string[];
  q?: string;
  ownerId?: string;
}

const columns = {
  row: workflows,
  currentVersion: workflowVersions.versionNumber,
};

type RowWithVersion = { row: WorkflowRow; currentVersion: number | null };

export function toWorkflowView({ row, currentVersion }: RowWithVersion): WorkflowView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    status: row.status,
    tags: row.tags,
    metadata: row.metadata,
    schedule: row.schedule ?? null,
    ownerId: row.ownerId,
    currentVersionId: row.currentVersionId,
    currentVersion,
    webhookSecretSet: row.webhookSecret !== null,
    mcp: row.mcp,
    retentionDays: row.retentionDays,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export const ownershipOf = (row: WorkflowRow) => ({ ownerIds: [row.ownerId] });

export async function listWorkflows(
  db: Database,
  user: AuthenticatedUser,
  filters: WorkflowFilters,
): Promise<Page<WorkflowView>> {
  const after = decodeCursor(filters.cursor);
  const rows = await db
    .select(columns)
    .from(workflows)
    .leftJoin(workflowVersions, eq(workflowVersions.id, workflows.currentVersionId))
    .where(
      and(
        readsAll(user)
          ? filters.ownerId
            ? eq(workflows.ownerId, filters.ownerId)
            : undefined
          : eq(workflows.ownerId, user.id),
        filters.status ? eq(workflows.status, filters.status) : ne(workflows.status, "archived"),
        filters.tags?.length ? arrayContains(workflows.tags, filters.tags) : undefined,
        filters.q ? ilike(workflows.name, `%${escapeLike(filters.q)}%`) : undefined,
        after
          ? sql`(${workflows.createdAt}, ${workflows.id}) < (${after.at}::timestamptz, ${after.id}::uuid)`
          : undefined,
      ),
    )
    .orderBy(...newestFirst(workflows.createdAt, workflows.id))
    .limit(filters.limit + 1);
  return toPage(rows, filters.limit, (r) => ({ at: r.row.createdAt.toISOString(), id: r.row.id }), toWorkflowView);
}

/** The workflow if the caller may read it; 404 otherwise. */
export async function getVisibleWorkflow(db: Queryable, user: AuthenticatedUser, id: string): Promise<RowWithVersion> {
  const found = await findWorkflow(db, id);
  assertVisible(user, found ? ownershipOf(found.row) : null, "Workflow");
  return found as RowWithVersion;
}

export async function findWorkflow(db: Queryable, id: string, lock = false): Promise<RowWithVersion | null> {
  const query = db
    .select(columns)
    .from(workflows)
    .leftJoin(workflowVersions, eq(workflowVersions.id, workflows.currentVersionId))
    .where(eq(workflows.id, id));
  const [found] = await (lock ? query.for("update", { of: workflows }) : query);
  return found ?? null;
}

export async function createWorkflow(
  db: Database,
  config: Settings,
  user: AuthenticatedUser,
  audit: AuditContext,
  input: WorkflowInput,
): Promise<WorkflowView> {
  return db.transaction(async (tx) => {
    await assertQuota(tx, config, "workflows", user);
    if (input.schedule) await assertQuota(tx, config, "schedules", user);
    const [row] = await tx
      .insert(workflows)
      .values({
        ownerId: user.id,
        name: input.name,
        description: input.description ?? null,
        tags: normalizeTags(input.tags),
        metadata: input.metadata ?? {},
        schedule: input.schedule ?? null,
        scheduleSince: input.schedule ? new Date() : null,
        retentionDays: input.retentionDays ?? null,
      })
      .returning();
    const view = toWorkflowView({ row, currentVersion: null });
    await recordAudit(tx, audit, {
      action: "workflow.create",
      resourceType: "workflow",
      resourceId: row.id,
      after: view,
    });
    return view;
  });
}

export function updateWorkflow(
  db: Database,
  config: Settings,
  user: AuthenticatedUser,
  audit: AuditContext,
  id: string,
  changes: WorkflowChanges,
): Promise<WorkflowView> {
  // A schedule set on a workflow that had none counts against its owner's quota.
  const check = async (tx: Queryable, before: WorkflowRow) => {
    if (changes.mcp !== undefined && !changesAll(user)) throw new ForbiddenError("Only admins mark workflows for MCP");
    if (changes.schedule && !before.schedule)
      await assertQuota(tx, config, "schedules", await ownerOf(tx, before.ownerId));
  };
  return changeWorkflow(db, user, audit, id, "workflows:update", "workflow.update", check, (before) => ({
    name: changes.name,
    description: changes.description,
    tags: changes.tags ? normalizeTags(changes.tags) : undefined,
    metadata: changes.metadata,
    schedule: changes.schedule,
    status: changes.status,
    mcp: changes.mcp,
    retentionDays: changes.retentionDays,
    // A new schedule, or an activation, starts counting slots from now: nothing is backfilled.
    scheduleSince:
      changes.schedule !== undefined || (changes.status === "active" && before.status !== "active")
        ? new Date()
        : undefined,
  }));
}

export function archiveWorkflow(
  db: Database,
  user: AuthenticatedUser,
  audit: AuditContext,
  id: string,
): Promise<WorkflowView> {
  return changeWorkflow(db, user, audit, id, "workflows:delete", "workflow.archive", null, () => ({
    status: "archived",
  }));
}

/** Locks, changes and audits one workflow in one transaction. */
async function changeWorkflow(
  db: Database,
  user: AuthenticatedUser,
  audit: AuditContext,
  id: string,
  permission: "workflows:update" | "workflows:delete",
  action: string,
  check: ((tx: Queryable, before: WorkflowRow) => Promise<void>) | null,
  changes: (before: WorkflowRow) => Partial<typeof workflows.$inferInsert>,
): Promise<WorkflowView> {
  return db.transaction(async (tx) => {
    const before = await lockForChange(tx, user, id, permission);
    await check?.(tx, before.row);
    const [row] = await tx.update(workflows).set(changes(before.row)).where(eq(workflows.id, id)).returning();
    const view = toWorkflowView({ row, currentVersion: before.currentVersion });
    await recordAudit(tx, audit, {
      action,
      resourceType: "workflow",
      resourceId: id,
      before: toWorkflowView(before),
      after: view,
    });
    return view;
  });
}

/** Locks the workflow row for a change; 404 if invisible, 403 if not allowed, 409 if archived. */
export async function lockForChange(
  tx: Queryable,
  user: AuthenticatedUser,
  id: string,
  permission: "workflows:update" | "workflows:delete",
): Promise<RowWithVersion> {
  const found = await findWorkflow(tx, id, true);
  authorize(user, found ? ownershipOf(found.row) : null, "Workflow", permission);
  if (found?.row.status === "archived") throw new ConflictError("The workflow is archived", "WORKFLOW_ARCHIVED");
  return found as RowWithVersion;
}

function normalizeTags(tags: string[] | undefined): string[] {
  return [...new Set((tags ?? []).map((tag) => tag.trim().toLowerCase()).filter(Boolean))];
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

/** A workflow owner's id and roles (quotas exempt admins). */
export async function ownerOf(db: Queryable, ownerId: string): Promise<{ id: string; roles: string[] }> {
  const [owner] = await db.select({ id: users.id, roles: users.roles }).from(users).where(eq(users.id, ownerId));
  return owner ?? { id: ownerId, roles: [] };
}
