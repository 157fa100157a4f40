/** Runs an `agent` step attempt through the agent runtime. */
import { z } from "zod";
import { runAgent } from "../agents/runtime";
import type { StepOutcome, StepTask } from "../durable-objects/execution/types";
import type { Bindings } from "../env";

const InputSchema = z.object({
  agentId: z.uuid(),
  prompt: z.string(),
  maxTokens: z.number().int().positive().nullable(),
});

export async function runAgentStep(
  task: StepTask,
  env: Bindings,
  onToken: (text: string) => void,
): Promise<StepOutcome> {
  const input = InputSchema.parse(task.input);
  return runAgent({ ...input, task, env, onToken });
}
