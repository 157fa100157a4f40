/**
 * What the API answers about executions: an execution with its steps, compensations and children,
 * a step, why it waits, a page of a container's sub-steps, a log line and a step's whole output.
 */
import { z } from "@hono/zod-openapi";
import { EXECUTION_STATUSES, QUEUE_REASONS, STEP_STATUSES, TRIGGER_TYPES, WAIT_REASONS } from "../../engine/vocabulary";
import { Timestamp } from "./common";

export const ExecutionStatus = z.enum(EXECUTION_STATUSES);
export const StepStatus = z.enum(STEP_STATUSES);

/** Why a step, or the execution it ended, failed (docs/engine.md). */
const StepErrorSchema = z
  .looseObject({
    message: z.string(),
    reason: z.string().openapi({ description: "http_error, unexpected_status, timeout, rejected, dead_lettered, …" }),
    retryable: z.boolean().optional(),
    status: z.number().int().optional(),
    stepId: z.string().optional().openapi({ description: "on an execution: the step whose failure ended it" }),
  })
  .openapi("StepError");

const ExecutionFields = {
  id: z.uuid(),
  workflowId: z.uuid(),
  workflowVersionId: z.uuid(),
  status: ExecutionStatus,
  triggerType: z.enum(TRIGGER_TYPES),
  triggeredBy: z.uuid().nullable(),
  parentExecutionId: z.uuid().nullable(),
  parentStepId: z
    .string()
    .nullable()
    .openapi({ description: "the parent's step that started it (a workflow step or tool)" }),
  input: z.unknown(),
  output: z.unknown(),
  error: StepErrorSchema.nullable(),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  costUsd: z
    .number()
    .nullable()
    .openapi({ description: "what the agent steps cost (MODEL_PRICES); null when a model had no price" }),
  run: z.number().int().openapi({ description: "1, then +1 for each retry or rerun" }),
  priority: z.number().int().openapi({ description: "among queued executions of its key, higher begins first" }),
  tags: z.array(z.string()),
  metadata: z.record(z.string(), z.string()),
  syncError: z
    .object({
      seq: z.number().int(),
      target: z.string(),
      pgCode: z.string().nullable(),
      message: z.string(),
      at: Timestamp,
    })
    .nullable()
    .openapi({ description: "the newest row Postgres refused for good (the rows after it still arrived)" }),
  compensation: z
    .object({
      completed: z.array(z.string()),
      failed: z.array(z.object({ stepId: z.string(), error: StepErrorSchema })),
      notRun: z
        .array(z.string())
        .openapi({ description: "compensations left unrun (none unless the execution ended before they could run)" }),
    })
    .nullable()
    .openapi({ description: "what its compensations did, once it failed or was cancelled with compensate" }),
  startedAt: Timestamp.nullable(),
  completedAt: Timestamp.nullable(),
  durationMs: z.number().int().nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
};

/** Why a waiting step waits, with what it waits for and until when (docs/engine.md). */
export const WaitingSchema = z
  .object({
    reason: z.enum(WAIT_REASONS),
    approverRoles: z.array(z.string()).nullable().optional(),
    message: z.string().nullable().optional(),
    event: z.string().optional(),
    expiresAt: Timestamp.nullable().optional(),
    until: Timestamp.optional(),
    nextAttemptAt: Timestamp.optional(),
    attempt: z.number().int().optional(),
    error: StepErrorSchema.optional(),
    executionIds: z.array(z.uuid()).optional(),
    budgetUsd: z.number().optional(),
    spentUsd: z.number().optional(),
    nextCallUsd: z.number().optional().openapi({ description: "the most the next model call could cost" }),
  })
  .openapi("StepWaiting");

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
    error: StepErrorSchema.nullable(),
    retries: z.number().int(),
    run: z.number().int(),
    waiting: WaitingSchema.nullable(),
    progress: z
      .object({
        total: z.number().int().nullable().openapi({ description: "a map's items; null for a loop" }),
        started: z.number().int(),
        running: z.number().int(),
        completed: z.number().int(),
        failed: z.number().int(),
      })
      .nullable()
      .openapi({ description: "a map's or a loop's sub-steps (its items are paged at …/steps/:stepId/items)" }),
    promptTokens: z.number().int(),
    completionTokens: z.number().int(),
    costUsd: z
      .number()
      .nullable()
      .openapi({ description: "this step's model and priced tool calls, across its attempts" }),
    startedAt: Timestamp.nullable(),
    completedAt: Timestamp.nullable(),
    durationMs: z.number().int().nullable(),
  })
  .openapi("ExecutionStep");

export const ExecutionSchema = z
  .object({
    ...ExecutionFields,
    versionNumber: z.number().int(),
    costBudgetUsd: z
      .number()
      .nullable()
      .openapi({ description: "the definition's costBudgetUsd, or the budget an owner raised it to" }),
    queue: z
      .object({
        reason: z.enum(QUEUE_REASONS).openapi({ description: "the gate it waits at" }),
        key: z.string().openapi({ description: 'that gate\'s key for this execution ("" without a key)' }),
        position: z.number().int().openapi({ description: "1 for the next to pass (higher priority, then arrival)" }),
        limit: z.number().int().nullable().openapi({ description: "the concurrency or throttle limit" }),
        until: Timestamp.nullable().openapi({
          description: "debounce: when it begins unless another start of its key moves it later",
        }),
        expiresAt: Timestamp.nullable().openapi({
          description: "when it is cancelled as `expired` if still queued (the workflow's queueTtlSeconds)",
        }),
      })
      .nullable()
      .openapi({
        description:
          "while the execution waits `queued` at a start gate: debounce, throttle or concurrency (docs/workflows.md)",
      }),
    steps: z.array(StepSchema),
    compensations: z
      .array(StepSchema)
      .openapi({ description: "the compensation sub-steps `<stepId>[compensate]`, in the order they ran" }),
    children: z
      .array(
        z.object({
          id: z.uuid(),
          workflowId: z.uuid(),
          status: ExecutionStatus,
          parentStepId: z.string().nullable(),
          createdAt: Timestamp,
        }),
      )
      .openapi({ description: "the executions its workflow steps and tools started (the newest 100)" }),
  })
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

export const SubStepPageSchema = z
  .object({
    items: z.array(z.object({ index: z.number().int(), ...StepSchema.shape })),
    nextAfter: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "pass as `after` for the next page; null at the end" }),
  })
  .openapi("SubStepPage");

export const StepOutputSchema = z
  .object({
    stepId: z.string(),
    attempt: z.number().int(),
    status: StepStatus,
    offloaded: z.boolean().openapi({ description: "the output was over 128 KB and was read back from R2" }),
    output: z.unknown(),
  })
  .openapi("StepOutput");
