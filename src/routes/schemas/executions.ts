/** Request and response schemas of executions, their steps, logs and controls. */
import { z } from "@hono/zod-openapi";
import { JsonValue } from "../../engine/step-fields";
import { EXECUTION_STATUSES, QUEUE_REASONS, STEP_STATUSES, TRIGGER_TYPES, WAIT_REASONS } from "../../engine/vocabulary";
import {
  MAX_METADATA_KEYS,
  MAX_METADATA_VALUE_LENGTH,
  MAX_PRIORITY,
  MAX_TAG_LENGTH,
  MAX_TAGS,
  MetadataKeySchema,
  MetadataSchema,
  MIN_PRIORITY,
  TagSchema,
  TagsSchema,
} from "../../services/execution-labels";
import { ListQuery, Timestamp } from "./common";

export const ExecutionStatus = z.enum(EXECUTION_STATUSES);
const StepStatus = z.enum(STEP_STATUSES);

export const Tags = TagsSchema;
const Metadata = MetadataSchema;
// Built here, not taken from execution-labels.ts: `.openapi()` exists only on schemas built after
// @hono/zod-openapi extends zod, and the services may load first.
export const Priority = z
  .number()
  .int()
  .min(MIN_PRIORITY)
  .max(MAX_PRIORITY)
  .openapi({ description: "among queued executions of its key, higher begins first (default 0)" });

export const StartBody = z
  .strictObject({
    input: z.record(z.string(), JsonValue).optional().openapi({ description: "the execution's `input`" }),
    version: z.number().int().min(1).optional().openapi({ description: "run this version instead of the current one" }),
    tags: Tags.optional().openapi({
      description: `labels to find it by (at most ${MAX_TAGS}, 1-${MAX_TAG_LENGTH} characters each)`,
    }),
    metadata: Metadata.optional().openapi({
      description: `string values by key to find it by (at most ${MAX_METADATA_KEYS} keys; values up to ${MAX_METADATA_VALUE_LENGTH} characters)`,
    }),
    priority: Priority.optional(),
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
  .object({
    id: z.uuid(),
    status: ExecutionStatus,
    streamUrl: z.string(),
    skipped: z.boolean().optional().openapi({
      description: "true when the workflow's `singleton` skipped the start: the execution already going (200)",
    }),
    debounced: z.boolean().optional().openapi({
      description: "true when the workflow's `debounce` joined the start to the execution waiting for its key",
    }),
  })
  .openapi("ExecutionStarted");

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

export const ExecutionListQuery = ListQuery.extend({
  workflowId: z.uuid().optional(),
  status: ExecutionStatus.optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
  tag: z
    .union([TagSchema, Tags])
    .transform((value) => (Array.isArray(value) ? value : [value]))
    .optional()
    .openapi({ description: "repeatable: executions carrying every one of these tags" }),
  q: z
    .string()
    .min(1)
    .max(MAX_METADATA_VALUE_LENGTH)
    .optional()
    .openapi({ description: "an id prefix, a tag or a metadata value" }),
});

/** `meta.<key>=<value>` query parameters: executions whose metadata has each of them. */
export const MetadataFilter = z.record(MetadataKeySchema, z.string().max(MAX_METADATA_VALUE_LENGTH));

export const LogQuery = ListQuery.extend({ stepId: z.string().max(64).optional() });

export const ControlResultSchema = z
  .object({ id: z.uuid(), status: ExecutionStatus })
  .openapi("ExecutionControlResult");
export const DecisionResultSchema = z
  .object({ id: z.uuid(), stepId: z.string(), status: ExecutionStatus })
  .openapi("ApprovalDecisionResult");
export const DecisionBody = z
  .strictObject({
    comment: z.string().max(2000).optional(),
    raiseBudgetUsd: z.number().positive().max(1_000_000).optional().openapi({
      description: "approving a step that waits for its budget (reason budget): the execution's new cost budget",
    }),
  })
  .openapi("ApprovalDecision");

export const StepParams = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" } }),
  stepId: z
    .string()
    .regex(/^[a-z0-9_-]{1,64}(\[(\d{1,5}|compensate)\])?$/)
    .openapi({
      param: { name: "stepId", in: "path" },
      description: "a step's id, or a sub-step's: `<id>[<index>]` (a map item, a loop iteration), `<id>[compensate]`",
    }),
});

export const CancelBody = z
  .object({
    compensate: z
      .boolean()
      .optional()
      .openapi({ description: "run the compensations of the completed steps before it ends (docs/workflows.md)" }),
  })
  .openapi("CancelRequest");

export const SubStepQuery = z.object({
  after: z.coerce
    .number()
    .int()
    .min(-1)
    .optional()
    .openapi({ description: "the last index of the previous page (its `nextAfter`)" }),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  status: StepStatus.optional(),
});

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

export const RerunBody = z
  .strictObject({
    fromStep: z
      .string()
      .regex(/^[a-z0-9_-]{1,64}$/)
      .openapi({ description: "this step and everything downstream of it run again" }),
    version: z.number().int().min(1).optional().openapi({ description: "run this version's definition" }),
    input: z
      .record(z.string(), JsonValue)
      .optional()
      .openapi({ description: "a new input (steps that read input run again)" }),
    dryRun: z.boolean().optional().openapi({ description: "answer the plan and change nothing" }),
  })
  .openapi("Rerun");

export const RerunPlanSchema = z
  .object({
    run: z.number().int(),
    fromStep: z.string(),
    versionNumber: z.number().int(),
    keep: z.array(z.string()).openapi({ description: "steps that keep their outputs" }),
    rerun: z.array(z.object({ stepId: z.string(), type: z.string(), sideEffects: z.boolean() })),
    sideEffects: z
      .array(z.string())
      .openapi({ description: "steps that reach outside the platform and would fire again" }),
  })
  .openapi("RerunPlan");

export const RerunResultSchema = z
  .object({ id: z.uuid(), status: ExecutionStatus, dryRun: z.boolean(), plan: RerunPlanSchema })
  .openapi("RerunResult");

export const EventParams = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" } }),
  name: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/)
    .openapi({ param: { name: "name", in: "path" } }),
});

export const EventBody = z.strictObject({ payload: JsonValue.optional() }).openapi("EventDelivery");

export const EventHeaders = z.object({
  "idempotency-key": z
    .string()
    .min(1)
    .max(255)
    .optional()
    .openapi({ description: "a retry with the same key is delivered once" }),
});

export const DeliveryResultSchema = z
  .object({
    delivered: z.boolean().openapi({ description: "a waiting step received it" }),
    buffered: z.boolean().openapi({ description: "kept for a step that has not started waiting yet" }),
  })
  .openapi("EventDeliveryResult");

export const StepOutputSchema = z
  .object({
    stepId: z.string(),
    attempt: z.number().int(),
    status: StepStatus,
    offloaded: z.boolean().openapi({ description: "the output was over 128 KB and was read back from R2" }),
    output: z.unknown(),
  })
  .openapi("StepOutput");
