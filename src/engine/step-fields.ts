/**
 * What every step type's definition shares (docs/workflows.md "Common fields") and the limits of the
 * definition language. Step folders build their schemas on these; nothing here knows a step type.
 */
import { z } from "zod";

export const MAX_STEPS = 100;
export const MAX_DEFINITION_BYTES = 256 * 1024;
export const MAX_WAIT_SECONDS = 30 * 24 * 3600;
export const MAX_RETRY_DELAY_MS = 12 * 3600 * 1000;
/** The most tokens a model may be asked to write in one answer (agents and agent steps). */
export const MAX_OUTPUT_TOKENS = 128_000;

export const StepId = z.string().regex(/^[a-z0-9_-]{1,64}$/, "step ids are 1-64 of a-z, 0-9, _ and -");

export const RetryPolicySchema = z.strictObject({
  maxAttempts: z.number().int().min(1).max(20).default(3),
  initialDelayMs: z.number().int().min(0).max(MAX_RETRY_DELAY_MS).default(1000),
  factor: z.number().min(1).max(10).default(2),
  maxDelayMs: z.number().int().min(0).max(MAX_RETRY_DELAY_MS).default(60_000),
});
export type RetryPolicy = z.infer<typeof RetryPolicySchema>;

/**
 * Any JSON value. Bodies are parsed JSON already, so this only demands presence; a recursive
 * `z.json()` would send the OpenAPI generator into endless recursion.
 */
export const JsonValue = z.unknown().refine((value) => value !== undefined, "Required");

/** A JSON Schema object (validated against its meta-schema where it is used). */
export const JsonSchemaObject = z.record(z.string(), z.unknown());

export const commonStepFields = {
  id: StepId,
  name: z.string().max(200).optional(),
  dependsOn: z.array(StepId).max(MAX_STEPS).default([]),
  retry: RetryPolicySchema.optional(),
  timeoutSeconds: z.number().int().min(1).max(MAX_WAIT_SECONDS).optional(),
  continueOnError: z.boolean().default(false),
};

/** The fields every parsed step has, whatever its type. */
export interface StepBase {
  id: string;
  type: string;
  name?: string;
  dependsOn: string[];
  retry?: RetryPolicy;
  timeoutSeconds?: number;
  continueOnError: boolean;
}
