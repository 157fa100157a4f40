/**
 * The workflow definition language of docs/workflows.md as zod schemas: every step type's shape (from the
 * step registry), the definition's top level, its limits and defaults. Unknown fields are
 * rejected everywhere.
 */
import { z } from "zod";
import { JsonSchemaObject, MAX_STEPS, MAX_WAIT_SECONDS } from "../engine/step-fields";
import type { QueuedStepType } from "../engine/vocabulary";
import type { StepKind } from "./kind";
import { STEP_KINDS, STEP_SCHEMAS } from "./registry";

/** A queued start waits at most 30 days. */
export const MAX_QUEUE_TTL_SECONDS = 30 * 24 * 3600;
/** A throttle window or debounce wait is at most 12 h: the longest delay of one queue message. */
export const MAX_GATE_SECONDS = 12 * 3600;

export const StepSchema = z.discriminatedUnion("type", STEP_SCHEMAS);

export const DefinitionSchema = z.strictObject({
  steps: z.array(StepSchema).min(1, "a workflow needs at least one step").max(MAX_STEPS, `at most ${MAX_STEPS} steps`),
  /** JSON Schema every start's input must match (docs/workflows.md). */
  inputSchema: JsonSchemaObject.optional(),
  /** Extension: a deadline for the whole execution. */
  timeoutSeconds: z.number().int().min(1).max(MAX_WAIT_SECONDS).optional(),
  /** Extension: the most tokens the execution's agent steps may use together. */
  tokenBudget: z.number().int().positive().max(100_000_000).optional(),
  /**
   * At most `limit` executions of the workflow (per value of `key`, a template over `input`) are
   * active at once; the others wait `queued` and start in arrival order (docs/workflows.md).
   */
  concurrency: z
    .strictObject({
      limit: z.number().int().min(1).max(10_000),
      key: z.string().min(1).max(500).optional(),
    })
    .optional(),
  /**
   * A start is cancelled (reason `expired`) when it has waited `queued` longer than this
   * (docs/workflows.md "Flow control on starts").
   */
  queueTtlSeconds: z.number().int().min(1).max(MAX_QUEUE_TTL_SECONDS).optional(),
  /**
   * One execution per value of `key` (a template over `input`) at a time: a start while one is not
   * ended is skipped (`skip`) or ends it as `superseded` and begins (`cancel`).
   */
  singleton: z
    .strictObject({
      key: z.string().min(1).max(500).optional(),
      mode: z.enum(["skip", "cancel"]),
    })
    .optional(),
  /**
   * At most `limit` starts per value of `key` pass within any `periodSeconds`; the others wait
   * `queued` (reason `throttle`) and pass in order as the window allows.
   */
  throttle: z
    .strictObject({
      key: z.string().min(1).max(500).optional(),
      limit: z.number().int().min(1).max(10_000),
      periodSeconds: z.number().int().min(1).max(MAX_GATE_SECONDS),
    })
    .optional(),
  /**
   * Starts of one `key` within `periodSeconds` of each other become one execution, with the last
   * start's input, that begins once the starts stop (or `maxWaitSeconds` after the first).
   */
  debounce: z
    .strictObject({
      key: z.string().min(1).max(500).optional(),
      periodSeconds: z.number().int().min(1).max(3600),
      maxWaitSeconds: z.number().int().min(1).max(MAX_GATE_SECONDS).optional(),
    })
    .optional(),
  /** The most its model calls may cost together (docs/workflows.md Cost): a call that could go over waits for an owner. */
  costBudgetUsd: z.number().positive().max(1_000_000).optional(),
});

export type Step = z.infer<typeof StepSchema>;
export type StepType = Step["type"];
export type Definition = z.infer<typeof DefinitionSchema>;
export type StepOf<T extends StepType> = Extract<Step, { type: T }>;

/** The registered kind of a step type. */
export function stepKind<T extends StepType>(type: T): StepKind<StepOf<T>> {
  return STEP_KINDS[type] as StepKind<StepOf<T>>;
}

export function isQueued(type: StepType): type is QueuedStepType {
  return stepKind(type).mode === "queued";
}
