/** The `transform` step's definition (docs/workflows.md): a templated JSON value. */
import { z } from "zod";
import { commonStepFields, JsonValue } from "../../engine/step-fields";

export const TransformStepSchema = z.strictObject({
  ...commonStepFields,
  type: z.literal("transform"),
  output: JsonValue,
});
export type TransformStep = z.infer<typeof TransformStepSchema>;
