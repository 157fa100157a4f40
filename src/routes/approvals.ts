/** /approvals: the approvals inbox (an API extension for the dashboard; see services/approvals.ts). */
import { createRoute, z } from "@hono/zod-openapi";
import { authenticate, requirePermission } from "../middleware/auth";
import { listApprovals } from "../services/approvals";
import { createRouter } from "./router";
import { bearer, json, ListQuery, pageOf, readErrors, Timestamp } from "./schemas/common";

export const ApprovalSchema = z
  .object({
    executionId: z.uuid(),
    workflowId: z.uuid(),
    workflowName: z.string(),
    stepId: z.string(),
    reason: z
      .enum(["approval", "budget"])
      .openapi({ description: "an approval step, or a step waiting for its cost budget" }),
    budget: z
      .object({ budgetUsd: z.number(), spentUsd: z.number(), nextCallUsd: z.number() })
      .nullable()
      .openapi({ description: "for budget waits: approve with raiseBudgetUsd of at least spentUsd + nextCallUsd" }),
    approverRoles: z.array(z.string()),
    message: z.string().nullable(),
    waitingSince: Timestamp.nullable(),
    expiresAt: Timestamp.nullable(),
  })
  .openapi("Approval");

const list = createRoute({
  method: "get",
  path: "/",
  operationId: "listApprovals",
  tags: ["executions"],
  summary: "Approval steps and budget waits the caller may decide now (oldest first, keyset pages)",
  security: bearer,
  middleware: [authenticate, requirePermission("executions:approve")],
  request: { query: ListQuery },
  responses: { 200: json(pageOf(ApprovalSchema, "ApprovalList")), ...readErrors },
});

export const approvalRoutes = createRouter().openapi(list, async (c) =>
  c.json(await listApprovals(c.var.db.db, c.var.user, c.req.valid("query")), 200),
);
