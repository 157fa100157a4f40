/** The `map` step's definition (docs/workflows.md "Control flow"): an inner step run once per item. */
import { z } from "zod";
import { commonStepFields } from "../../engine/step-fields";
import { InnerStepSchema } from "../inner";

/** The most items one map may run. */
export const MAX_MAP_ITEMS = 10_000;

export const MapStepSchema = z.strictObject({
  ...commonStepFields,
  type: z.literal("map"),
  /** A template that resolves to an array, e.g. `{{steps.fetch.output.documents}}`. */
  items: z.string().min(1).max(2000),
  step: InnerStepSchema,
  /** At most this many items run at once. */
  concurrency: z.number().int().min(1).max(100).default(10),
  /** More items than this fail the step with `too_many_items`. */
  maxItems: z.number().int().min(1).max(MAX_MAP_ITEMS).default(1000),
});
export type MapStep = z.infer<typeof MapStepSchema>;
