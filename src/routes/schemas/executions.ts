/** Request and response schemas of executions, their steps, logs and controls. */
import { z } from "@hono/zod-openapi";
import { JsonValue } from "../../engine/definition";
import { ListQuery, Timestamp } from "./common";

export const ExecutionStatus = z.enum(["pending", "running", "paused", "completed", "failed", "cancelled"]);
const StepStatus = z.enum(["pending", "running", "waiting", "completed", "failed", "skipped"]);

export const StartBody = z
  .strictObject({
    input: z.record(z.string(), JsonValue).optional().openapi({ description: "the execution's `input`" }),
    version: z.number().int().min(1).optional().openapi({ description: "run this version instead of the current one" }),
  })
  .openapi("StartExecution");

export const StartHeaders = z.object({
  "idempotency-key": z
    .string()
    .min(1)
    .max(255)
    .optional()
    .openapi({ description: "the same key from the same user returns the same execution for 24 h" }),
});

export const StartedSchema = z
  .object({ id: z.uuid(), status: ExecutionStatus, streamUrl: z.string() })
  .openapi("ExecutionStarted");

const ExecutionFields = {
  id: z.uuid(),
  workflowId: z.uuid(),
  workflowVersionId: z.uuid(),
  status: ExecutionStatus,
  triggerType: z.enum(["manual", "webhook", "schedule", "tool", "retry"]),
  triggeredBy: z.uuid().nullable(),
  parentExecutionId: z.uuid().nullable(),
  input: z.unknown(),
  output: z.unknown(),
  error: z.unknown(),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  startedAt: Timestamp.nullable(),
  completedAt: Timestamp.nullable(),
  durationMs: z.number().int().nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
};

export const ExecutionSummarySchema = z.object(ExecutionFields).openapi("ExecutionSummary");

export const StepSchema = z
  .object({
    stepId: z.string(),
    type: z.string(),
    status: StepStatus,
    attempt: z.number().int(),
    idempotencyKey: z.string().nullable(),
    input: z.unknown(),
    output: z.unknown(),
    error: z.unknown(),
    retries: z.number().int(),
    promptTokens: z.number().int(),
    completionTokens: z.number().int(),
    startedAt: Timestamp.nullable(),
    completedAt: Timestamp.nullable(),
    durationMs: z.number().int().nullable(),
  })
  .openapi("ExecutionStep");

export const ExecutionSchema = z
  .object({ ...ExecutionFields, versionNumber: z.number().int(), steps: z.array(StepSchema) })
  .openapi("Execution");

export const LogSchema = z
  .object({
    seq: z.number().int(),
    at: Timestamp,
    level: z.enum(["debug", "info", "warn", "error"]),
    event: z.string(),
    stepId: z.string().nullable(),
    message: z.string().nullable(),
    data: z.unknown(),
  })
  .openapi("ExecutionLog");

export const ExecutionListQuery = ListQuery.extend({
  workflowId: z.uuid().optional(),
  status: ExecutionStatus.optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
});

export const LogQuery = ListQuery.extend({ stepId: z.string().max(64).optional() });

export const ControlResultSchema = z
  .object({ id: z.uuid(), status: ExecutionStatus })
  .openapi("ExecutionControlResult");
export const DecisionResultSchema = z
  .object({ id: z.uuid(), stepId: z.string(), status: ExecutionStatus })
  .openapi("ApprovalDecisionResult");
export const DecisionBody = z.strictObject({ comment: z.string().max(2000).optional() }).openapi("ApprovalDecision");

export const StepParams = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" } }),
  stepId: z
    .string()
    .regex(/^[a-z0-9_-]{1,64}$/)
    .openapi({ param: { name: "stepId", in: "path" } }),
});
