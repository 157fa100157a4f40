/** An http step's rendered input, as the object hands it to the consumer (and stores it). */
import { z } from "zod";

const SendableTextSchema = z.array(z.union([z.string(), z.object({ secret: z.string() })]));

export const HttpInputSchema = z.object({
  url: z.string(),
  method: z.string(),
  headers: z.record(z.string(), z.string()),
  body: z.unknown().optional(),
  /** Where the definition named secrets (absent in inputs rendered before slots existed). */
  secretSlots: z
    .array(z.object({ at: z.array(z.union([z.string(), z.number()])), text: SendableTextSchema }))
    .optional(),
  expectStatus: z.array(z.number()).nullable(),
});
export type HttpInput = z.infer<typeof HttpInputSchema>;
