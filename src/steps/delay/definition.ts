/** The `delay` step's definition (docs/workflows.md): a wait of up to 30 days (a Durable Object alarm). */
import { z } from "zod";
import { commonStepFields, MAX_WAIT_SECONDS } from "../../engine/step-fields";

export const DelayStepSchema = z.strictObject({
  ...commonStepFields,
  type: z.literal("delay"),
  seconds: z.number().int().min(0).max(MAX_WAIT_SECONDS),
});
export type DelayStep = z.infer<typeof DelayStepSchema>;
