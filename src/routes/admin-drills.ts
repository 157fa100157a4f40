/** /admin/drills: recovery drills (backups:manage, docs/backups.md). */
import { createRoute, z } from "@hono/zod-openapi";
import { auditContextOf } from "../middleware/audit-context";
import { getDrill, listDrills, startDrill } from "../services/drills";
import { manageBackups } from "./admin-backups";
import { createRouter } from "./router";
import { errors, IdParam, json, ListQuery, mutationErrors, pageOf, readErrors, Timestamp } from "./schemas/common";

const base = manageBackups;

export const DrillSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(["running", "passed", "failed"]),
    trigger: z.enum(["manual", "schedule"]),
    backupId: z.uuid().nullable().openapi({ description: "the newest finished backup, whose chain was restored" }),
    startedAt: Timestamp,
    completedAt: Timestamp.nullable(),
    rtoSeconds: z.number().nullable().openapi({ description: "restore time: read, check and load the chain, compare" }),
    rpoSeconds: z.number().int().nullable().openapi({ description: "age of the newest restored change at drill time" }),
    reason: z.string().nullable(),
    report: z
      .object({
        backupId: z.uuid().nullable(),
        snapshotAt: Timestamp.nullable(),
        chain: z.array(z.uuid()),
        objects: z.number().int(),
        tables: z.array(
          z.object({ name: z.string(), rows: z.number(), expectedRows: z.number(), checksumMatches: z.boolean() }),
        ),
      })
      .nullable(),
    createdAt: Timestamp,
  })
  .openapi("Drill");

const list = createRoute({
  ...base,
  method: "get",
  path: "/",
  operationId: "listDrills",
  summary: "Recovery drills, newest first, with their RTO, RPO and per-table results",
  request: { query: ListQuery },
  responses: { 200: json(pageOf(DrillSchema, "DrillPage")), ...readErrors },
});

const start = createRoute({
  ...base,
  method: "post",
  path: "/",
  operationId: "startDrill",
  summary: "Restore the newest backup chain into the verification database now and report on it",
  responses: { 202: json(DrillSchema, "Accepted"), ...mutationErrors, 409: errors[409] },
});

const get = createRoute({
  ...base,
  method: "get",
  path: "/{id}",
  operationId: "getDrill",
  summary: "A drill's report",
  request: { params: IdParam },
  responses: { 200: json(DrillSchema), ...readErrors, 404: errors[404] },
});

export const adminDrillRoutes = createRouter()
  .openapi(list, async (c) => c.json(await listDrills(c.var.db.db, c.req.valid("query")), 200))
  .openapi(start, async (c) => c.json(await startDrill(c.var.db.db, c.env, auditContextOf(c), "manual"), 202))
  .openapi(get, async (c) => c.json(await getDrill(c.var.db.db, c.req.valid("param").id), 200));
