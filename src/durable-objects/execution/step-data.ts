/** Pure functions over an execution's step states: new steps, template scope, outputs. */
import type { Step } from "../../engine/definition";
import type { Scope } from "../../engine/paths";
import type { ExecutionRecord, StepState } from "./types";

/** Larger outputs stay in the step row; events carry a marker instead. */
const MAX_EVENT_OUTPUT_BYTES = 64 * 1024;

export function freshStep(step: { id: string; type: Step["type"] }): StepState {
  return {
    stepId: step.id,
    type: step.type,
    status: "pending",
    attempt: 0,
    idempotencyKey: null,
    input: null,
    output: null,
    error: null,
    startedAt: null,
    completedAt: null,
    retries: 0,
    deadLetters: 0,
    promptTokens: 0,
    completionTokens: 0,
    waiting: null,
    skipReason: null,
    dispatchPending: false,
    leaseUntil: null,
    dispatchedAt: null,
    redrives: 0,
    agent: null,
  };
}

/** What templates and conditions may read: input, finished steps' outputs, the execution. */
export function scopeOf(record: ExecutionRecord, states: StepState[]): Scope {
  const steps: Scope["steps"] = {};
  for (const step of states) {
    // A step that failed with continueOnError hands on `{ error }` as its output.
    if (step.status === "completed" || (step.status === "failed" && step.output !== null)) {
      steps[step.stepId] = { output: step.output };
    }
  }
  return {
    input: record.input,
    steps,
    execution: { id: record.id, startedAt: record.startedAt ?? record.createdAt, workflowId: record.workflowId },
  };
}

/** The outputs of the steps nothing depends on: what the workflow produced. */
export function sinkOutputs(record: ExecutionRecord, states: StepState[]): Record<string, unknown> {
  const needed = new Set(record.definition.steps.flatMap((step) => step.dependsOn));
  const output: Record<string, unknown> = {};
  for (const state of states) {
    if (!needed.has(state.stepId) && state.status === "completed") output[state.stepId] = state.output;
  }
  return output;
}

export function eventOutput(output: unknown): Record<string, unknown> {
  const bytes = new TextEncoder().encode(JSON.stringify(output ?? null)).length;
  return bytes <= MAX_EVENT_OUTPUT_BYTES ? { output } : { outputTruncated: true, outputBytes: bytes };
}
