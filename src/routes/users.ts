/** /users: user administration (users:manage). DELETE deactivates. */
import { createRoute, z } from "@hono/zod-openapi";
import { auditContextOf } from "../middleware/audit-context";
import { authenticate, requirePermission } from "../middleware/auth";
import { createUser, deactivateUser, getUser, listUsers, toUserView, updateUser } from "../services/users";
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
} from "./schemas/common";
import { CreateUserBody, Role, UpdateUserBody, UserSchema } from "./schemas/users";

const tags = ["users"];
const guard = [authenticate, requirePermission("users:manage")];

const list = createRoute({
  method: "get",
  path: "/",
  operationId: "listUsers",
  summary: "List users",
  tags,
  security: bearer,
  middleware: guard,
  request: {
    query: ListQuery.extend({ role: Role.optional(), active: z.enum(["true", "false"]).optional() }),
  },
  responses: { 200: json(pageOf(UserSchema, "UserPage")), ...readErrors },
});

const create = createRoute({
  method: "post",
  path: "/",
  operationId: "createUser",
  summary: "Create a user",
  tags,
  security: bearer,
  middleware: guard,
  request: { body: jsonBody(CreateUserBody) },
  responses: { 201: json(UserSchema, "Created"), ...mutationErrors, 409: errors[409] },
});

const get = createRoute({
  method: "get",
  path: "/{id}",
  operationId: "getUser",
  summary: "A user",
  tags,
  security: bearer,
  middleware: guard,
  request: { params: IdParam },
  responses: { 200: json(UserSchema), ...readErrors, 404: errors[404] },
});

const update = createRoute({
  method: "patch",
  path: "/{id}",
  operationId: "updateUser",
  tags,
  summary: "Change a user; a change of roles, activity or password ends their sessions",
  security: bearer,
  middleware: guard,
  request: { params: IdParam, body: jsonBody(UpdateUserBody) },
  responses: { 200: json(UserSchema), ...mutationErrors, 404: errors[404], 409: errors[409] },
});

const remove = createRoute({
  method: "delete",
  path: "/{id}",
  operationId: "deactivateUser",
  tags,
  summary: "Deactivate a user (their tokens stop working at once)",
  security: bearer,
  middleware: guard,
  request: { params: IdParam },
  responses: { 200: json(UserSchema), ...readErrors, 404: errors[404], 409: errors[409] },
});

export const userRoutes = createRouter()
  .openapi(list, async (c) => {
    const query = c.req.valid("query");
    const active = query.active === undefined ? undefined : query.active === "true";
    return c.json(await listUsers(c.var.db.db, { ...query, active }), 200);
  })
  .openapi(create, async (c) => c.json(await createUser(c.var.db.db, auditContextOf(c), c.req.valid("json")), 201))
  .openapi(get, async (c) => c.json(toUserView(await getUser(c.var.db.db, c.req.valid("param").id)), 200))
  .openapi(update, async (c) =>
    c.json(await updateUser(c.var.db.db, auditContextOf(c), c.req.valid("param").id, c.req.valid("json")), 200),
  )
  .openapi(remove, async (c) =>
    c.json(await deactivateUser(c.var.db.db, auditContextOf(c), c.req.valid("param").id), 200),
  );
