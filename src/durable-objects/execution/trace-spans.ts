/**
 * What an execution's object adds to its trace (docs/operations.md) as work ends: the span of a finished
 * step attempt — with, for an agent, its model and tool calls from the attempt's ledger — and the
 * execution's own span when it ends. The object exports them once the transition has committed.
 */
import type { AgentSnapshot } from "../../agents/snapshot";
import type { AgentState } from "../../agents/state";
import { attemptSpans, executionSpan, type Span } from "../../observability/tracing/spans";
import { traceOf } from "../../observability/tracing/trace-context";
import type { Step } from "../../steps/definition";
import type { ExecutionRecord, StepState } from "./types";

export function spansOfAttempt(
  record: ExecutionRecord,
  step: StepState,
  definition: Step,
  ended: { at: string; error: string | null; ledger: Pick<AgentState, "modelCalls" | "toolCalls"> | null },
  agents: Record<string, AgentSnapshot>,
): Span[] {
  const startedAt = step.attemptStartedAt ?? step.startedAt;
  if (!startedAt) return [];
  const agent = definition.type === "agent" ? agents[definition.agentId] : undefined;
  return attemptSpans({
    executionId: record.id,
    trace: traceOf(record.id, record.trace),
    stepId: step.stepId,
    type: step.type,
    attempt: step.attempt,
    startedAt,
    endedAt: ended.at,
    error: ended.error,
    agent: agent && {
      id: agent.id,
      provider: agent.configuration.provider,
      requestModel: agent.modelName ?? agent.configuration.deployment ?? "default",
      ledger: ended.ledger ?? { toolCalls: [] },
    },
  });
}

export function spanOfExecution(record: ExecutionRecord): Span {
  return executionSpan({
    id: record.id,
    workflowId: record.workflowId,
    trace: traceOf(record.id, record.trace),
    status: record.status,
    startedAt: record.startedAt ?? record.createdAt,
    completedAt: record.completedAt ?? record.createdAt,
    error: record.error?.message ?? null,
  });
}

/** The ledger an agent attempt's output carries (model and tool calls), if it is one. */
export function ledgerOf(output: unknown): Pick<AgentState, "modelCalls" | "toolCalls"> | null {
  const value = output as Partial<AgentState> | null;
  return value && Array.isArray(value.toolCalls) ? { modelCalls: value.modelCalls, toolCalls: value.toolCalls } : null;
}
