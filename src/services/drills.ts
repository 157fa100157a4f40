/** Recovery drills for admins (backups:manage, docs/backups.md): start one, list them, read a report. */
import { and, desc, eq, gt, lt, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record";
import type { DrillReport } from "../backup/drill";
import type { Database, Queryable } from "../db/client";
import { drills } from "../db/schema";
import type { AuditContext } from "../db/schema/audit";
import type { Bindings } from "../env";
import { ConflictError, NotFoundError } from "../errors";
import { enqueueJob } from "../queues/enqueue-job";
import { decodeCursor, toPage } from "./pagination";

type DrillRow = typeof drills.$inferSelect;

export function toDrillView(row: DrillRow) {
  return {
    id: row.id,
    status: row.status,
    trigger: row.trigger,
    backupId: row.backupId,
    startedAt: row.startedAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
    rtoSeconds: row.rtoMs === null ? null : row.rtoMs / 1000,
    rpoSeconds: row.rpoSeconds,
    reason: row.reason,
    report: (row.report as DrillReport | null) ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Starts a drill unless one is running (two restores into the verification database would contend). */
export async function startDrill(
  db: Database,
  env: Bindings,
  audit: AuditContext,
  trigger: DrillRow["trigger"],
): Promise<ReturnType<typeof toDrillView>> {
  const row = await db.transaction(async (tx) => {
    if (await runningDrill(tx)) throw new ConflictError("A drill is running already", "DRILL_RUNNING");
    const [created] = await tx.insert(drills).values({ trigger, requestedBy: audit.actorId }).returning();
    await recordAudit(tx, audit, {
      action: "drill.start",
      resourceType: "drill",
      resourceId: created.id,
      after: { trigger },
    });
    return created;
  });
  await enqueueJob(env, { type: "drill", drillId: row.id });
  return toDrillView(row);
}

export async function listDrills(db: Database, filters: { limit: number; cursor?: string }) {
  const after = decodeCursor(filters.cursor);
  const rows = await db
    .select()
    .from(drills)
    .where(after ? lt(drills.createdAt, new Date(after.at)) : undefined)
    .orderBy(desc(drills.createdAt))
    .limit(filters.limit + 1);
  return toPage(rows, filters.limit, (row) => ({ at: row.createdAt.toISOString(), id: row.id }), toDrillView);
}

export async function getDrill(db: Database, id: string) {
  const [row] = await db.select().from(drills).where(eq(drills.id, id));
  if (!row) throw new NotFoundError("Drill");
  return toDrillView(row);
}

/** A drill still running, started within the hour (an older one was lost with its runner and blocks nothing). */
async function runningDrill(db: Queryable): Promise<boolean> {
  const [row] = await db
    .select({ id: drills.id })
    .from(drills)
    .where(and(eq(drills.status, "running"), gt(drills.startedAt, sql`now() - interval '1 hour'`)))
    .limit(1);
  return !!row;
}
