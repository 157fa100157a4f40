/** Queue message bodies, shared by producers and consumers. */
import { z } from "zod";

/** docs/engine.md: a step message carries only what identifies one attempt. */
export const StepMessageSchema = z.object({
  executionId: z.uuid(),
  stepId: z.string().min(1).max(64),
  attempt: z.number().int().positive(),
  idempotencyKey: z.string().min(1).max(128),
});
export type StepMessage = z.infer<typeof StepMessageSchema>;

/** Heavy maintenance runs in the jobs queue (15 minutes of wall time), not in cron handlers. */
export const JobMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("backup"), backupId: z.uuid() }),
  z.object({ type: z.literal("verify"), backupId: z.uuid(), mode: z.enum(["restore", "objects"]).default("restore") }),
  z.object({ type: z.literal("retention"), slot: z.string() }),
  z.object({ type: z.literal("archive-logs"), slot: z.string() }),
  z.object({ type: z.literal("drill"), drillId: z.uuid() }),
  z.object({ type: z.literal("replicate"), backupId: z.uuid() }),
  z.object({ type: z.literal("bulk"), bulkJobId: z.uuid() }),
  // Send the notification deliveries that are due (docs/operations.md "Notifications").
  z.object({ type: z.literal("notify") }),
  // A start gate's next admission (docs/workflows.md "Flow control on starts"): a debounced start's
  // time, or a throttle window opening.
  z.object({
    type: z.literal("admit"),
    workflowId: z.uuid(),
    gate: z.enum(["debounce", "throttle"]),
    key: z.string().max(256),
  }),
]);
export type JobMessage = z.infer<typeof JobMessageSchema>;
