/**
 * `agent` steps: an agent answers a prompt through the steps queue, calling its tools (and, with
 * `responseFormat`, answering JSON its schema validates), with checkpoints so an attempt run again resumes instead of asking the model again.
 */

import { schemaProblems } from "../../engine/json-schema";
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
  validate: (step) => (step.responseFormat ? schemaProblems(step.responseFormat.schema, "responseFormat.schema") : []),
  defaultTimeoutMs: 300_000,
  // Agent attempts stream tokens and may run for minutes: the queue spreads them over consumers.
  firstAttemptInObject: false,
  input: (step, scope) => ({
    agentId: step.agentId,
    prompt: renderText(step.prompt, scope),
    maxTokens: step.maxTokens ?? null,
    responseFormat: step.responseFormat
      ? { name: step.responseFormat.name ?? "answer", schema: step.responseFormat.schema }
      : null,
  }),
  // Loaded on first use: the runtime pulls in the provider clients and the start service.
  run: async (task, input, context) => {
    const { runAgent } = await import("./run");
    return runAgent(task, input as Parameters<typeof runAgent>[1], context);
  },
} satisfies QueuedKind<AgentStep>;
