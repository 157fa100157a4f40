/**
 * Counting an attempt's tokens and cost into its step and its execution once: consumers report
 * the attempt's totals so far (checkpoints, suspensions, the result), so only what is new counts.
 */
import { addCosts } from "../../agents/pricing";
import type { TokenUsage } from "../../agents/state";
import type { ExecutionRecord, StepState } from "./types";

export function countUsage(step: StepState, record: ExecutionRecord, usage: TokenUsage): void {
  const prompt = Math.max(0, usage.promptTokens - step.attemptUsage.promptTokens);
  const completion = Math.max(0, usage.completionTokens - step.attemptUsage.completionTokens);
  // An unknown cost (a model without a price) makes the step's and the execution's unknown.
  const counted = step.attemptUsage.costUsd ?? 0;
  const cost = usage.costUsd === undefined ? 0 : usage.costUsd === null ? null : Math.max(0, usage.costUsd - counted);
  step.attemptUsage = {
    promptTokens: step.attemptUsage.promptTokens + prompt,
    completionTokens: step.attemptUsage.completionTokens + completion,
    costUsd: cost === null ? null : addCosts(counted, cost),
  };
  step.promptTokens += prompt;
  step.completionTokens += completion;
  // Objects from before costs existed hold no cost yet: they start from zero.
  step.costUsd = addCosts(step.costUsd === undefined ? 0 : step.costUsd, cost);
  record.promptTokens += prompt;
  record.completionTokens += completion;
  record.costUsd = addCosts(record.costUsd === undefined ? 0 : record.costUsd, cost);
}
