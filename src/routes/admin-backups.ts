/** /admin/backups: backups:manage (docs/api.md). */
import { createRoute, z } from "@hono/zod-openapi";
import { NotFoundError } from "../errors";
import { auditContextOf } from "../middleware/audit-context";
import { authenticate, requirePermission } from "../middleware/auth";
import {
  backupObject,
  getBackup,
  listBackups,
  requestBackup,
  requestVerification,
  toBackupView,
} from "../services/backups";
import { createRouter } from "./router";
import {
  bearer,
  errors,
  IdParam,
  json,
  jsonBody,
  ListQuery,
  mutationErrors,
  pageOf,
  readErrors,
  Timestamp,
} from "./schemas/common";

/** What every backups and drills route shares: its tag, bearer auth and backups:manage. */
export const manageBackups = {
  tags: ["backups"],
  security: bearer,
  middleware: [authenticate, requirePermission("backups:manage")],
};
const base = manageBackups;
const Kind = z.enum(["full", "incremental"]);
const Status = z.enum(["pending", "running", "completed", "verified", "failed", "verification_failed"]);

/** What the last verification found (docs/backups.md): by restore, or by the objects' checksums only. */
const VerificationSchema = z
  .object({
    ok: z.boolean(),
    mode: z.enum(["restore", "objects"]),
    reason: z.string().nullable(),
    durationMs: z.number(),
    checkedAt: Timestamp,
    chain: z.array(z.uuid()),
    objects: z.number().int(),
    tables: z.array(
      z.object({ name: z.string(), rows: z.number(), expectedRows: z.number(), checksumMatches: z.boolean() }),
    ),
  })
  .openapi("BackupVerification");

export const BackupSchema = z
  .object({
    id: z.uuid(),
    kind: Kind,
    status: Status,
    slot: Timestamp.nullable(),
    prefix: z.string(),
    baseId: z.uuid().nullable(),
    previousId: z.uuid().nullable(),
    snapshotAt: Timestamp.nullable(),
    sizeBytes: z.number().nullable(),
    rows: z.number().nullable(),
    startedAt: Timestamp.nullable(),
    completedAt: Timestamp.nullable(),
    durationMs: z.number().nullable(),
    verifiedAt: Timestamp.nullable(),
    verification: VerificationSchema.nullable(),
    progress: z
      .object({
        stage: z.enum(["checksums", "schema", "tables", "changes", "manifest", "done"]),
        tablesDone: z.number().int(),
        tablesTotal: z.number().int(),
        rows: z.number().int(),
        table: z.string().optional(),
      })
      .nullable()
      .openapi({ description: "how far a running backup has got (an extension: tables written of all, rows so far)" }),
    reason: z.string().nullable(),
    unchangedAt: Timestamp.nullable().openapi({
      description:
        "the newest time a scheduled incremental found nothing changed since this backup (an empty interval writes no objects); the backup is the database's state as of then",
    }),
    replica: z
      .object({
        status: z.enum(["pending", "copied", "failed"]),
        at: Timestamp.nullable(),
        reason: z.string().nullable(),
      })
      .nullable()
      .openapi({
        description:
          "the copy in the replica bucket (STORAGE_REPLICA): every object and the manifest, each checked by sha256; null when no replica is bound",
      }),
    createdAt: Timestamp,
    manifest: z.unknown().optional(),
  })
  .openapi("Backup");

const list = createRoute({
  ...base,
  method: "get",
  path: "/",
  operationId: "listBackups",
  summary: "Backups, newest first",
  request: { query: ListQuery.extend({ kind: Kind.optional(), status: Status.optional() }) },
  responses: { 200: json(pageOf(BackupSchema, "BackupPage")), ...readErrors },
});
const create = createRoute({
  ...base,
  method: "post",
  path: "/",
  operationId: "startBackup",
  summary: "Start a backup now (it runs in the jobs queue; poll GET /admin/backups/:id)",
  request: { body: jsonBody(z.strictObject({ kind: Kind }).openapi("StartBackup")) },
  responses: { 202: json(BackupSchema, "Accepted"), ...mutationErrors },
});
const get = createRoute({
  ...base,
  method: "get",
  path: "/{id}",
  operationId: "getBackup",
  summary: "A backup with its manifest",
  request: { params: IdParam },
  responses: { 200: json(BackupSchema), ...readErrors, 404: errors[404] },
});
const verify = createRoute({
  ...base,
  method: "post",
  path: "/{id}/verify",
  operationId: "verifyBackup",
  summary: "Verify by restore: objects against the manifest, then a scratch restore compared table by table",
  request: { params: IdParam },
  responses: { 202: json(BackupSchema, "Accepted"), ...readErrors, 404: errors[404], 409: errors[409] },
});
const object = createRoute({
  ...base,
  method: "get",
  path: "/{id}/objects/{name}",
  operationId: "getBackupObject",
  summary: "Streams one stored object (or manifest.json), byte for byte as stored",
  request: {
    params: z.object({
      id: z.uuid().openapi({ param: { name: "id", in: "path" } }),
      name: z
        .string()
        .regex(/^[\w.-]{1,200}$/)
        .openapi({ param: { name: "name", in: "path" } }),
    }),
    query: z.object({
      bucket: z
        .enum(["primary", "replica"])
        .default("primary")
        .openapi({ description: "read the copy in the replica bucket (STORAGE_REPLICA) instead of the primary" }),
    }),
  },
  responses: { 200: { description: "The object" }, ...readErrors, 404: errors[404] },
});

export const adminBackupRoutes = createRouter()
  .openapi(list, async (c) => c.json(await listBackups(c.var.db.db, c.req.valid("query")), 200))
  .openapi(create, async (c) =>
    c.json(await requestBackup(c.var.db.db, c.env, auditContextOf(c), c.req.valid("json").kind), 202),
  )
  .openapi(get, async (c) => c.json(toBackupView(await getBackup(c.var.db.db, c.req.valid("param").id), true), 200))
  .openapi(verify, async (c) =>
    c.json(await requestVerification(c.var.db.db, c.env, auditContextOf(c), c.req.valid("param").id), 202),
  )
  .openapi(object, async (c) => {
    const { id, name } = c.req.valid("param");
    const bucket = c.req.valid("query").bucket === "replica" ? c.env.STORAGE_REPLICA : c.env.STORAGE;
    if (!bucket) throw new NotFoundError("Replica bucket");
    const found = await backupObject(c.var.db.db, bucket, id, name);
    return new Response(found.body, {
      headers: {
        "content-type": name.endsWith(".json") ? "application/json" : "application/octet-stream",
        "content-length": String(found.size),
        etag: found.httpEtag,
      },
    });
  });
