/** Runs one queued step attempt by its type. */
import type { AgentResult } from "../agents/runtime";
import { settings } from "../config";
import type { StepTask } from "../durable-objects/execution/types";
import type { Bindings } from "../env";
import { runAgentStep } from "./agent-step";
import { runHttpStep } from "./http-step";

export async function runStep(task: StepTask, env: Bindings, onToken: (text: string) => void): Promise<AgentResult> {
  if (task.type === "http") return { outcome: await runHttpStep(task, settings(env)) };
  return runAgentStep(task, env, onToken);
}
