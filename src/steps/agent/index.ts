/**
 * `agent` steps: an agent answers a prompt through the steps queue, calling its tools, with
 * checkpoints so an attempt run again resumes instead of asking the model again.
 */

import { renderText } from "../../engine/template";
import type { QueuedKind } from "../kind";
import { type AgentStep, AgentStepSchema } from "./definition";

export const agentStep = {
  type: "agent",
  schema: AgentStepSchema,
  mode: "queued",
  sideEffects: true,
  templatedFields: (step) => [["prompt", step.prompt]],
  agentIds: (step) => [step.agentId],
  defaultTimeoutMs: 300_000,
  input: (step, scope) => ({
    agentId: step.agentId,
    prompt: renderText(step.prompt, scope),
    maxTokens: step.maxTokens ?? null,
  }),
  // Loaded on first use: the runtime pulls in the provider clients and the start service.
  run: async (task, input, context) => {
    const { runAgent } = await import("../../agents/runtime");
    return runAgent(task, input as Parameters<typeof runAgent>[1], context);
  },
} satisfies QueuedKind<AgentStep>;
