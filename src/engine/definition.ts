/**
 * The workflow definition language of SPEC §4 as zod schemas: the shape of every step type,
 * its limits, and the defaults the engine applies. Unknown fields are rejected everywhere.
 */
import { z } from "zod";

export const MAX_STEPS = 100;
export const MAX_DEFINITION_BYTES = 256 * 1024;
export const MAX_WAIT_SECONDS = 30 * 24 * 3600;
export const MAX_RETRY_DELAY_MS = 12 * 3600 * 1000;

export const StepId = z.string().regex(/^[a-z0-9_-]{1,64}$/, "step ids are 1-64 of a-z, 0-9, _ and -");

export const RetryPolicySchema = z.strictObject({
  maxAttempts: z.number().int().min(1).max(20).default(3),
  initialDelayMs: z.number().int().min(0).max(MAX_RETRY_DELAY_MS).default(1000),
  factor: z.number().min(1).max(10).default(2),
  maxDelayMs: z.number().int().min(0).max(MAX_RETRY_DELAY_MS).default(60_000),
});
export type RetryPolicy = z.infer<typeof RetryPolicySchema>;
export const DEFAULT_RETRY: RetryPolicy = RetryPolicySchema.parse({});

const common = {
  id: StepId,
  name: z.string().max(200).optional(),
  dependsOn: z.array(StepId).max(MAX_STEPS).default([]),
  retry: RetryPolicySchema.optional(),
  timeoutSeconds: z.number().int().min(1).max(MAX_WAIT_SECONDS).optional(),
  continueOnError: z.boolean().default(false),
};

/**
 * Any JSON value. Bodies are parsed JSON already, so this only demands presence; a recursive
 * `z.json()` would send the OpenAPI generator into endless recursion.
 */
export const JsonValue = z.unknown().refine((value) => value !== undefined, "Required");

export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] as const;

const AgentStep = z.strictObject({
  ...common,
  type: z.literal("agent"),
  agentId: z.uuid(),
  prompt: z.string().min(1).max(100_000),
  maxTokens: z.number().int().positive().max(1_000_000).optional(),
});

const HttpStep = z.strictObject({
  ...common,
  type: z.literal("http"),
  request: z.strictObject({
    url: z.string().min(1).max(8192),
    method: z.enum(HTTP_METHODS).default("GET"),
    headers: z
      .record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "not a header name"), z.string().max(8192))
      .optional(),
    body: JsonValue.optional(),
  }),
  expectStatus: z
    .union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1)])
    .optional(),
});

const ApprovalStep = z.strictObject({
  ...common,
  type: z.literal("approval"),
  approverRoles: z
    .array(z.enum(["admin", "user", "viewer"]))
    .min(1)
    .optional(),
  message: z.string().max(2000).optional(),
});

const ConditionStep = z.strictObject({
  ...common,
  type: z.literal("condition"),
  if: z.string().min(1).max(2000),
  then: z.array(StepId).default([]),
  else: z.array(StepId).default([]),
});

const TransformStep = z.strictObject({
  ...common,
  type: z.literal("transform"),
  output: JsonValue,
});

const DelayStep = z.strictObject({
  ...common,
  type: z.literal("delay"),
  seconds: z.number().int().min(0).max(MAX_WAIT_SECONDS),
});

export const StepSchema = z.discriminatedUnion("type", [
  AgentStep,
  HttpStep,
  ApprovalStep,
  ConditionStep,
  TransformStep,
  DelayStep,
]);

export const DefinitionSchema = z.strictObject({
  steps: z.array(StepSchema).min(1, "a workflow needs at least one step").max(MAX_STEPS, `at most ${MAX_STEPS} steps`),
  /** Extension: a deadline for the whole execution. */
  timeoutSeconds: z.number().int().min(1).max(MAX_WAIT_SECONDS).optional(),
  /** Extension: the most tokens the execution's agent steps may use together. */
  tokenBudget: z.number().int().positive().max(100_000_000).optional(),
});

export type Step = z.infer<typeof StepSchema>;
export type StepType = Step["type"];
export type Definition = z.infer<typeof DefinitionSchema>;
export type StepOf<T extends StepType> = Extract<Step, { type: T }>;

/** Steps with side effects run through the steps queue; the others run inside the Durable Object. */
export const QUEUED_STEP_TYPES: ReadonlySet<StepType> = new Set(["agent", "http"]);
