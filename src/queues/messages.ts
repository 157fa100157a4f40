/** Queue message bodies, shared by producers and consumers. */
import { z } from "zod";

/** SPEC §5: a step message carries only what identifies one attempt. */
export const StepMessageSchema = z.object({
  executionId: z.uuid(),
  stepId: z.string().min(1).max(64),
  attempt: z.number().int().positive(),
  idempotencyKey: z.string().min(1).max(128),
});
export type StepMessage = z.infer<typeof StepMessageSchema>;
