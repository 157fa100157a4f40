/** The `event` step's definition (docs/workflows.md): the event's name, a timeout and the payload's schema. */
import { z } from "zod";
import { commonStepFields, JsonSchemaObject } from "../../engine/step-fields";

export const EVENT_NAME = /^[A-Za-z0-9._:-]{1,128}$/;

export const EventStepSchema = z.strictObject({
  ...commonStepFields,
  type: z.literal("event"),
  event: z.string().regex(EVENT_NAME, "event names are 1-128 of A-Z, a-z, 0-9, '.', '_', ':' and '-'"),
  schema: JsonSchemaObject.optional(),
});
export type EventStep = z.infer<typeof EventStepSchema>;
