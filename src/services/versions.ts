/** Immutable workflow versions: create (validated), list, read, and choose the current one. */
import { and, desc, eq, inArray, lt, max } from "drizzle-orm";
import { recordAudit } from "../audit/record";
import type { AuthenticatedUser } from "../auth/principal";
import type { Settings } from "../config";
import type { Database, Queryable } from "../db/client";
import { agents, workflows, workflowVersions } from "../db/schema";
import type { AuditContext } from "../db/schema/audit";
import { NotFoundError, ValidationError } from "../errors";
import { sealedSecretsIn } from "../secrets/sealed-rows";
import type { Definition } from "../steps/definition";
import { maskedDefinition } from "../steps/http/mask";
import { validateDefinition } from "../steps/validate-definition";
import { mayChange } from "./access";
import { decodeCursor, type Page, toPage } from "./pagination";
import { assertQuota } from "./quotas";
import { unstartableWorkflows } from "./workflow-references";
import { getVisibleWorkflow, lockForChange, ownershipOf, toWorkflowView, type WorkflowView } from "./workflows";

type VersionRow = typeof workflowVersions.$inferSelect;

export interface VersionSummary {
  id: string;
  workflowId: string;
  versionNumber: number;
  changeSummary: string | null;
  createdBy: string | null;
  createdAt: string;
  isCurrent: boolean;
}

export interface VersionView extends VersionSummary {
  definition: Definition;
}

export interface NewVersion {
  definition: unknown;
  changeSummary?: string;
  makeCurrent?: boolean;
}

function toSummary(row: Omit<VersionRow, "definition">, currentVersionId: string | null): VersionSummary {
  return {
    id: row.id,
    workflowId: row.workflowId,
    versionNumber: row.versionNumber,
    changeSummary: row.changeSummary,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    isCurrent: row.id === currentVersionId,
  };
}

function toView(row: VersionRow, currentVersionId: string | null): VersionView {
  return { ...toSummary(row, currentVersionId), definition: row.definition as Definition };
}

export async function createVersion(
  db: Database,
  config: Settings,
  user: AuthenticatedUser,
  audit: AuditContext,
  workflowId: string,
  input: NewVersion,
): Promise<VersionView> {
  // Authorise before validating, so callers learn nothing about workflows they may not change.
  const { row: workflow } = await db.transaction((tx) => lockForChange(tx, user, workflowId, "workflows:update"));
  const verdict = await validateDefinition(input.definition, {
    agents: (ids) => agentStatuses(db, ids),
    secrets: async (names) => new Set(Object.keys(await sealedSecretsIn(db, { kind: "steps", workflowId }, names))),
    workflows: (references) => unstartableWorkflows(db, workflow.ownerId, references),
  });
  if (!verdict.ok) throw new ValidationError(verdict.problems, "The workflow definition is invalid");
  return db.transaction(async (tx) => {
    const workflow = await lockForChange(tx, user, workflowId, "workflows:update");
    await assertQuota(tx, config, "versions", { id: workflowId });
    const [{ highest }] = await tx
      .select({ highest: max(workflowVersions.versionNumber) })
      .from(workflowVersions)
      .where(eq(workflowVersions.workflowId, workflowId));
    const [row] = await tx
      .insert(workflowVersions)
      .values({
        workflowId,
        versionNumber: (highest ?? 0) + 1,
        definition: verdict.definition,
        changeSummary: input.changeSummary ?? null,
        createdBy: user.id,
      })
      .returning();
    const makeCurrent = input.makeCurrent ?? true;
    if (makeCurrent) await tx.update(workflows).set({ currentVersionId: row.id }).where(eq(workflows.id, workflowId));
    const view = toView(row, makeCurrent ? row.id : workflow.row.currentVersionId);
    await recordAudit(tx, audit, {
      action: "workflow.version.create",
      resourceType: "workflow",
      resourceId: workflowId,
      after: { ...toSummary(row, view.isCurrent ? row.id : null), definition: verdict.definition },
    });
    return view;
  });
}

export async function listVersions(
  db: Database,
  user: AuthenticatedUser,
  workflowId: string,
  options: { limit: number; cursor?: string },
): Promise<Page<VersionSummary>> {
  const { row: workflow } = await getVisibleWorkflow(db, user, workflowId);
  const after = decodeCursor(options.cursor);
  const before = after ? Number(after.at) : undefined;
  const rows = await db
    .select({
      id: workflowVersions.id,
      workflowId: workflowVersions.workflowId,
      versionNumber: workflowVersions.versionNumber,
      changeSummary: workflowVersions.changeSummary,
      createdBy: workflowVersions.createdBy,
      createdAt: workflowVersions.createdAt,
    })
    .from(workflowVersions)
    .where(
      and(eq(workflowVersions.workflowId, workflowId), before ? lt(workflowVersions.versionNumber, before) : undefined),
    )
    .orderBy(desc(workflowVersions.versionNumber))
    .limit(options.limit + 1);
  return toPage(
    rows,
    options.limit,
    (row) => ({ at: String(row.versionNumber), id: row.id }),
    (row) => toSummary(row, workflow.currentVersionId),
  );
}

export async function getVersion(
  db: Queryable,
  user: AuthenticatedUser,
  workflowId: string,
  versionNumber: number,
): Promise<VersionView> {
  const { row: workflow } = await getVisibleWorkflow(db, user, workflowId);
  const row = await findVersion(db, workflowId, versionNumber);
  const view = toView(row, workflow.currentVersionId);
  // Whoever may change the workflow reads it as written; other readers get its literal credentials masked.
  return mayChange(user, ownershipOf(workflow), "workflows:update")
    ? view
    : { ...view, definition: maskedDefinition(view.definition) };
}

export async function setCurrentVersion(
  db: Database,
  user: AuthenticatedUser,
  audit: AuditContext,
  workflowId: string,
  versionNumber: number,
): Promise<WorkflowView> {
  return db.transaction(async (tx) => {
    const before = await lockForChange(tx, user, workflowId, "workflows:update");
    const version = await findVersion(tx, workflowId, versionNumber);
    const [row] = await tx
      .update(workflows)
      .set({ currentVersionId: version.id })
      .where(eq(workflows.id, workflowId))
      .returning();
    const view = toWorkflowView({ row, currentVersion: version.versionNumber });
    await recordAudit(tx, audit, {
      action: "workflow.current_version.set",
      resourceType: "workflow",
      resourceId: workflowId,
      before: { currentVersion: before.currentVersion },
      after: { currentVersion: version.versionNumber },
    });
    return view;
  });
}

export async function findVersion(db: Queryable, workflowId: string, versionNumber: number): Promise<VersionRow> {
  const [row] = await db
    .select()
    .from(workflowVersions)
    .where(and(eq(workflowVersions.workflowId, workflowId), eq(workflowVersions.versionNumber, versionNumber)));
  if (!row) throw new NotFoundError("Version");
  return row;
}

async function agentStatuses(db: Queryable, ids: string[]): Promise<Map<string, { status: string }>> {
  const rows = await db.select({ id: agents.id, status: agents.status }).from(agents).where(inArray(agents.id, ids));
  return new Map(rows.map((row) => [row.id, { status: row.status }]));
}
