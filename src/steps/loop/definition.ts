/** The `loop` step's definition (docs/workflows.md "Control flow"): an inner step run until an expression holds. */
import { z } from "zod";
import { commonStepFields, MAX_WAIT_SECONDS } from "../../engine/step-fields";
import { InnerStepSchema } from "../inner";

export const LoopStepSchema = z.strictObject({
  ...commonStepFields,
  type: z.literal("loop"),
  step: InnerStepSchema,
  /** An expression over `last` (the iteration's output) and `iteration` (from 1): true ends the loop. */
  until: z.string().min(1).max(2000),
  maxIterations: z.number().int().min(1).max(100).default(10),
  /** A durable wait between one iteration's end and the next one's start. */
  delaySeconds: z.number().int().min(0).max(MAX_WAIT_SECONDS).optional(),
});
export type LoopStep = z.infer<typeof LoopStepSchema>;
