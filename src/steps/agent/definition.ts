/** The `agent` step's definition (docs/workflows.md): an agent, a prompt, and optionally the answer's JSON Schema. */
import { z } from "zod";
import { commonStepFields, JsonSchemaObject, MAX_OUTPUT_TOKENS } from "../../engine/step-fields";

/** Structured output: the answer is JSON that `schema` validates, kept as the output's `object`. */
export const ResponseFormatSchema = z.strictObject({
  type: z.literal("json_schema"),
  /** The schema's name as providers want it (OpenAI: a-z, A-Z, 0-9, _ and -, at most 64). */
  name: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, "names are 1-64 of A-Z, a-z, 0-9, '_' and '-'")
    .optional(),
  schema: JsonSchemaObject,
});
export type ResponseFormat = z.infer<typeof ResponseFormatSchema>;

export const AgentStepSchema = z.strictObject({
  ...commonStepFields,
  type: z.literal("agent"),
  agentId: z.uuid(),
  prompt: z.string().min(1).max(100_000),
  maxTokens: z.number().int().positive().max(MAX_OUTPUT_TOKENS).optional(),
  responseFormat: ResponseFormatSchema.optional(),
});
export type AgentStep = z.infer<typeof AgentStepSchema>;
