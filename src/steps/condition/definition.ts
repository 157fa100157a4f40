/** The `condition` step's definition (docs/workflows.md): an expression and the steps of each branch. */
import { z } from "zod";
import { commonStepFields, StepId } from "../../engine/step-fields";

export const ConditionStepSchema = z.strictObject({
  ...commonStepFields,
  type: z.literal("condition"),
  if: z.string().min(1).max(2000),
  then: z.array(StepId).default([]),
  else: z.array(StepId).default([]),
});
export type ConditionStep = z.infer<typeof ConditionStepSchema>;
