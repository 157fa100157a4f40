/** The `approval` step's definition (docs/workflows.md): who may decide, and for how long. */
import { z } from "zod";
import { commonStepFields } from "../../engine/step-fields";

export const ApprovalStepSchema = z.strictObject({
  ...commonStepFields,
  type: z.literal("approval"),
  approverRoles: z
    .array(z.enum(["admin", "user", "viewer"]))
    .min(1)
    .optional(),
  message: z.string().max(2000).optional(),
});
export type ApprovalStep = z.infer<typeof ApprovalStepSchema>;
