/** The `agent` step's definition (SPEC §4): an agent and a prompt. */
import { z } from "zod";
import { commonStepFields, MAX_OUTPUT_TOKENS } from "../common";

export const AgentStepSchema = z.strictObject({
  ...commonStepFields,
  type: z.literal("agent"),
  agentId: z.uuid(),
  prompt: z.string().min(1).max(100_000),
  maxTokens: z.number().int().positive().max(MAX_OUTPUT_TOKENS).optional(),
});
export type AgentStep = z.infer<typeof AgentStepSchema>;
