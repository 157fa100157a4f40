/** /notification-channels: where failures, waiting approvals and broken backups are told (docs/operations.md "Notifications"). */
import { createRoute, z } from "@hono/zod-openapi";
import { settings } from "../config";
import { CHANNEL_TYPES, NOTIFICATION_EVENTS } from "../engine/vocabulary";
import { auditContextOf } from "../middleware/audit-context";
import { authenticate } from "../middleware/auth";
import {
  createChannel,
  deleteChannel,
  listChannels,
  listDeliveries,
  updateChannel,
} from "../services/notification-channels";
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

const Events = z.array(z.enum(NOTIFICATION_EVENTS)).min(1).max(NOTIFICATION_EVENTS.length);

export const ChannelSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    type: z.enum(CHANNEL_TYPES),
    url: z
      .string()
      .openapi({ description: "the URL's origin only (or its {{secrets.NAME}} template): it may hold a token" }),
    events: Events,
    workflowId: z
      .uuid()
      .nullable()
      .openapi({ description: "null: a platform channel (admins), for every workflow and the backups" }),
    enabled: z.boolean(),
    consecutiveFailures: z.number().int(),
    disabledAt: Timestamp.nullable(),
    disabledReason: z.string().nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi("NotificationChannel");

export const CreatedChannelSchema = ChannelSchema.extend({
  signingSecret: z
    .string()
    .optional()
    .openapi({ description: "webhook channels: the secret deliveries are signed with, shown this once" }),
}).openapi("NotificationChannelCreated");

const Url = z.string().min(1).max(2000).openapi({
  description: "https URL, or {{secrets.NAME}} (the workflow's secret; the platform's for a platform channel)",
});

const CreateChannelBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    type: z.enum(CHANNEL_TYPES),
    url: Url,
    events: Events,
    workflowId: z.uuid().nullable().optional(),
  })
  .openapi("CreateNotificationChannel");

const UpdateChannelBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    url: Url.optional(),
    events: Events.optional(),
    enabled: z.boolean().optional().openapi({ description: "true re-enables a disabled channel" }),
  })
  .openapi("UpdateNotificationChannel");

export const DeliverySchema = z
  .object({
    id: z.uuid(),
    event: z.enum(NOTIFICATION_EVENTS),
    payload: z.record(z.string(), z.unknown()),
    status: z.enum(["pending", "delivered", "failed"]),
    attempts: z.number().int(),
    lastStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    nextAttemptAt: Timestamp.nullable(),
    deliveredAt: Timestamp.nullable(),
    createdAt: Timestamp,
  })
  .openapi("NotificationDelivery");

const base = { tags: ["notifications"], security: bearer, middleware: [authenticate] };
const objectErrors = { ...mutationErrors, 404: errors[404] };

const list = createRoute({
  ...base,
  method: "get",
  path: "/",
  operationId: "listNotificationChannels",
  summary: "Channels the caller manages: their workflows' (admins: every channel)",
  request: { query: z.object({ workflowId: z.uuid().optional() }) },
  responses: {
    200: json(z.object({ items: z.array(ChannelSchema) }).openapi("NotificationChannelList")),
    ...readErrors,
  },
});

const create = createRoute({
  ...base,
  method: "post",
  path: "/",
  operationId: "createNotificationChannel",
  summary: "Create a channel for a workflow (its owner) or the platform (admins)",
  request: { body: jsonBody(CreateChannelBody) },
  responses: { 201: json(CreatedChannelSchema, "Created"), ...objectErrors },
});

const update = createRoute({
  ...base,
  method: "patch",
  path: "/{id}",
  operationId: "updateNotificationChannel",
  summary: "Rename, retarget, change events, or re-enable a channel",
  request: { params: IdParam, body: jsonBody(UpdateChannelBody) },
  responses: { 200: json(ChannelSchema), ...objectErrors },
});

const remove = createRoute({
  ...base,
  method: "delete",
  path: "/{id}",
  operationId: "deleteNotificationChannel",
  summary: "Delete a channel and its deliveries",
  request: { params: IdParam },
  responses: { 204: { description: "Deleted" }, ...readErrors, 404: errors[404] },
});

const deliveries = createRoute({
  ...base,
  method: "get",
  path: "/{id}/deliveries",
  operationId: "listNotificationDeliveries",
  summary: "The channel's deliveries, newest first",
  request: {
    params: IdParam,
    query: ListQuery.extend({ status: z.enum(["pending", "delivered", "failed"]).optional() }),
  },
  responses: { 200: json(pageOf(DeliverySchema, "NotificationDeliveryPage")), ...readErrors, 404: errors[404] },
});

export const notificationChannelRoutes = createRouter()
  .openapi(list, async (c) => c.json(await listChannels(c.var.db.db, c.var.user, c.req.valid("query").workflowId), 200))
  .openapi(create, async (c) => {
    c.header("Cache-Control", "no-store");
    return c.json(
      await createChannel(c.var.db.db, settings(c.env), c.var.user, auditContextOf(c), c.req.valid("json")),
      201,
    );
  })
  .openapi(update, async (c) =>
    c.json(
      await updateChannel(
        c.var.db.db,
        settings(c.env),
        c.var.user,
        auditContextOf(c),
        c.req.valid("param").id,
        c.req.valid("json"),
      ),
      200,
    ),
  )
  .openapi(remove, async (c) => {
    await deleteChannel(c.var.db.db, c.var.user, auditContextOf(c), c.req.valid("param").id);
    return c.body(null, 204);
  })
  .openapi(deliveries, async (c) =>
    c.json(await listDeliveries(c.var.db.db, c.var.user, c.req.valid("param").id, c.req.valid("query")), 200),
  );
