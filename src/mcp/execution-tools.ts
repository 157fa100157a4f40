/**
 * The MCP tools besides the workflows (docs/api.md): reading an execution and deciding a waiting
 * approval, each under the caller's permissions — the same services as the REST routes, so an
 * invisible execution is "not found" here too.
 */
import { z } from "zod";
import type { Permission } from "../auth/permissions";
import { ValidationError, zodDetails } from "../errors";
import { decideStep } from "../services/execution-controls";
import { getExecution } from "../services/execution-view";
import type { McpCaller } from "./caller";

interface FixedTool {
  name: string;
  description: string;
  permission: Permission;
  inputSchema: { type: "object"; [key: string]: unknown };
  call(caller: McpCaller, args: Record<string, unknown>): Promise<unknown>;
}

const GetArgs = z.strictObject({ id: z.uuid() });
const DecideArgs = z.strictObject({
  executionId: z.uuid(),
  stepId: z.string().min(1).max(64),
  approved: z.boolean(),
  comment: z.string().max(2000).optional(),
  /** Approving a step that waits for its cost budget: the new budget. */
  raiseBudgetUsd: z.number().positive().max(1_000_000).optional(),
});

export const executionTools: FixedTool[] = [
  {
    name: "get_execution",
    description: "An execution with its status, output and steps (and why each waiting step waits)",
    permission: "executions:read",
    inputSchema: z.toJSONSchema(GetArgs) as FixedTool["inputSchema"],
    call: ({ db, user }, args) => getExecution(db, user, parsed(GetArgs, args).id),
  },
  {
    name: "decide_step",
    description:
      "Approve or reject an approval step that is waiting for a decision, or a step waiting for its cost budget (approve with raiseBudgetUsd)",
    permission: "executions:approve",
    inputSchema: z.toJSONSchema(DecideArgs) as FixedTool["inputSchema"],
    call: ({ db, env, user, audit }, args) => {
      const { executionId, stepId, approved, comment, raiseBudgetUsd } = parsed(DecideArgs, args);
      return decideStep(db, env, user, audit, executionId, stepId, {
        approved,
        comment: comment ?? null,
        raiseBudgetUsd: raiseBudgetUsd ?? null,
      });
    },
  },
];

function parsed<T>(schema: z.ZodType<T>, args: Record<string, unknown>): T {
  const result = schema.safeParse(args);
  if (result.success) return result.data;
  throw new ValidationError(
    zodDetails(result.error, "arguments"),
    "The arguments do not match the tool's input schema",
  );
}
