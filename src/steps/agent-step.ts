/** Runs an `agent` step attempt through the agent runtime. */
import { z } from "zod";
import { type AgentResult, runAgent } from "../agents/runtime";
import type { StepTask } from "../durable-objects/execution/types";
import type { Bindings } from "../env";

const InputSchema = z.object({
  agentId: z.uuid(),
  prompt: z.string(),
  maxTokens: z.number().int().positive().nullable(),
});

export function runAgentStep(task: StepTask, env: Bindings, onToken: (text: string) => void): Promise<AgentResult> {
  return runAgent({ ...InputSchema.parse(task.input), task, env, onToken });
}
