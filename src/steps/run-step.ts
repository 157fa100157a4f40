/** Runs one queued step attempt by its type. */
import { settings } from "../config";
import type { StepOutcome, StepTask } from "../durable-objects/execution/types";
import type { Bindings } from "../env";
import { runAgentStep } from "./agent-step";
import { runHttpStep } from "./http-step";

export function runStep(task: StepTask, env: Bindings, onToken: (text: string) => void): Promise<StepOutcome> {
  return task.type === "http" ? runHttpStep(task, settings(env)) : runAgentStep(task, env, onToken);
}
