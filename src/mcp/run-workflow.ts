/**
 * A `run_<slug>` call (docs/api.md): starts an execution (trigger `mcp`, idempotent per caller and
 * JSON-RPC request id, so a client that sends the same request again gets the same run) and
 * waits up to a minute for it to end. The arguments are the workflow's input; the call's `_meta`
 * may carry `ipa/tags`, `ipa/metadata` and `ipa/priority` for the start, as the API's body does. Completed: its output as JSON text; failed or cancelled: a
 * tool error with the reason; still going: its id and status, for `get_execution` later.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { executions } from "../db/schema";
import { type ExecutionStatus, isTerminalExecution } from "../engine/vocabulary";
import { ValidationError, zodDetails } from "../errors";
import { MetadataSchema, PrioritySchema, TagsSchema } from "../services/execution-labels";
import { startExecution } from "../services/execution-start";
import { getExecution } from "../services/execution-view";
import { errorResult, type McpCaller, textResult } from "./caller";
import type { WorkflowToolName } from "./workflow-tools";

export const CALL_WAIT_MS = 60_000;
const POLL_MS = 250;

/** What a call's `_meta` may say about its start (the limits of the API's start body). */
const StartMeta = z.object({
  "ipa/tags": TagsSchema.optional(),
  "ipa/metadata": MetadataSchema.optional(),
  "ipa/priority": PrioritySchema.optional(),
});

export async function runWorkflowTool(
  caller: McpCaller,
  tool: WorkflowToolName,
  args: Record<string, unknown>,
  requestId: string,
  meta: Record<string, unknown> = {},
): Promise<CallToolResult> {
  const parsed = StartMeta.safeParse(meta);
  if (!parsed.success) throw new ValidationError(zodDetails(parsed.error, "_meta"), "The call's _meta is not valid");
  const { "ipa/tags": tags, "ipa/metadata": metadata, "ipa/priority": priority } = parsed.data;
  const started = await startExecution(caller.db, caller.env, {
    workflowId: tool.workflowId,
    input: args,
    labels: tags || metadata ? { tags: tags ?? [], metadata: metadata ?? {} } : undefined,
    priority,
    triggerType: "mcp",
    user: caller.user,
    audit: caller.audit,
    idempotencyKey: `mcp:${requestId}`.slice(0, 255),
  });
  // The caller started it, so it may read it: poll only its status, then read it once.
  const deadline = Date.now() + CALL_WAIT_MS;
  let status = started.status as string;
  while (!isTerminalExecution(status as ExecutionStatus) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const [row] = await caller.db
      .select({ status: executions.status })
      .from(executions)
      .where(eq(executions.id, started.id));
    status = row?.status ?? status;
  }
  if (!isTerminalExecution(status as ExecutionStatus)) return textResult({ executionId: started.id, status });
  const execution = await getExecution(caller.db, caller.user, started.id);
  if (execution.status === "completed") return textResult(execution.output);
  return errorResult(JSON.stringify({ executionId: started.id, status: execution.status, error: execution.error }));
}
