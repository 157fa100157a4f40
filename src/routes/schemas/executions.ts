/** Request schemas of executions, their steps, logs and controls, and the controls' answers (the views are in execution-views.ts). */
import { z } from "@hono/zod-openapi";
import { JsonValue } from "../../engine/step-fields";
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
import { ListQuery } from "./common";
import { ExecutionStatus, StepStatus } from "./execution-views";

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
