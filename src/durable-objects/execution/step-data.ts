/** Pure functions over an execution's step states: new steps, template scope, outputs, views. */

import type { TokenUsage } from "../../agents/state";
import { LazyValue, type Scope } from "../../engine/paths";
import { isQueued, type Step, type StepType, stepKind } from "../../steps/definition";
import type { QueuedKind } from "../../steps/kind";
import type { OffloadRef } from "../../steps/large-values";
import type { CompensationState, CompensationView, ExecutionRecord, StepState } from "./types";

const ZERO: TokenUsage = { promptTokens: 0, completionTokens: 0 };

/** How long one attempt of a queued step may run: its `timeoutSeconds`, else its type's default. */
export function attemptTimeoutMs(definition: Step, fallbackMs: number): number {
  if (definition.timeoutSeconds) return definition.timeoutSeconds * 1000;
  if (!isQueued(definition.type)) return fallbackMs;
  return (stepKind(definition.type) as QueuedKind<typeof definition>).defaultTimeoutMs;
}

export function freshStep(step: { id: string; type: StepType }, run: number): StepState {
  return {
    stepId: step.id,
    type: step.type,
    status: "pending",
    attempt: 0,
    runAttempts: 0,
    run,
    idempotencyKey: null,
    input: null,
    output: null,
    inputRef: null,
    outputRef: null,
    error: null,
    startedAt: null,
    completedAt: null,
    retries: 0,
    deadLetters: 0,
    promptTokens: 0,
    completionTokens: 0,
    costUsd: 0,
    waiting: null,
    skipReason: null,
    dispatch: null,
    lease: null,
    attemptUsage: ZERO,
    children: null,
  };
}

/** A step made ready to run again in `run`: its totals and attempt count stay, the rest starts over. */
export function restartedStep(step: StepState, run: number): StepState {
  const { attempt, retries, deadLetters, promptTokens, completionTokens, costUsd } = step;
  return {
    ...freshStep({ id: step.stepId, type: step.type }, run),
    attempt,
    retries,
    deadLetters,
    promptTokens,
    completionTokens,
    costUsd,
  };
}

/** What templates and conditions may read: input, finished steps' outputs, the execution. */
export function scopeOf(record: ExecutionRecord, states: StepState[], load: (ref: OffloadRef) => unknown): Scope {
  const steps: Scope["steps"] = {};
  for (const step of states) {
    // A step that failed with continueOnError hands on `{ error }` as its output.
    if (step.status === "completed" || (step.status === "failed" && step.output !== null)) {
      const ref = step.outputRef;
      steps[step.stepId] = { output: ref ? new LazyValue(() => load(ref)) : step.output };
    }
  }
  return {
    input: record.input,
    steps,
    execution: { id: record.id, startedAt: record.startedAt ?? record.createdAt, workflowId: record.workflowId },
  };
}

/** The outputs of the steps nothing depends on, keyed by step id (references stay references). */
export function sinkOutputs(record: ExecutionRecord, states: StepState[]): Record<string, unknown> {
  const needed = new Set(record.definition.steps.flatMap((step) => step.dependsOn));
  const output: Record<string, unknown> = {};
  for (const state of states) {
    if (!needed.has(state.stepId) && state.status === "completed") output[state.stepId] = state.output;
  }
  return output;
}

/** The execution's cost budget: as an owner last raised it, else as its definition sets it. */
export function costBudgetOf(record: ExecutionRecord): number | null {
  return record.costBudgetUsd ?? record.definition.costBudgetUsd ?? null;
}

/** What compensation did, as the execution's row and the stream's snapshot show it. */
export function compensationView(compensation: CompensationState | null | undefined): CompensationView | null {
  return compensation
    ? { completed: compensation.completed, failed: compensation.failed, notRun: compensation.pending }
    : null;
}
