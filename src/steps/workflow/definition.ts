/** The `workflow` step's definition (docs/workflows.md "Control flow"): a child execution of another workflow. */
import { z } from "zod";
import { commonStepFields, JsonValue } from "../../engine/step-fields";

export const WorkflowStepSchema = z.strictObject({
  ...commonStepFields,
  type: z.literal("workflow"),
  /** The workflow's id, or its exact name among those the execution's user may start. */
  workflow: z.string().min(1).max(200),
  /** A version number; absent: the workflow's current version when the child starts. */
  version: z.number().int().positive().optional(),
  /** The child's input: a JSON object whose strings may hold templates. */
  input: z.record(z.string(), JsonValue).default({}),
  /** Wait for the child and take its output (default), or go on at once with `{ executionId }`. */
  wait: z.boolean().default(true),
});
export type WorkflowStep = z.infer<typeof WorkflowStepSchema>;
