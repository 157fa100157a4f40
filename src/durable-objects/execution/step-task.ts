/**
 * What a claimed queued-step attempt hands its consumer: everything it needs to run without
 * Postgres — the resolved input, the agent as the execution resolved it, the sealed secrets, the
 * agent's checkpoint and children's results, the budgets, and where its streamed text stands.
 */
import type { AgentState } from "../../agents/state";
import type { QueuedStepType } from "../../engine/vocabulary";
import { traceOf } from "../../observability/tracing/trace-context";
import type { Step } from "../../steps/definition";
import type { StepTask } from "../../steps/task";
import { leaseLength } from "./clocks";
import { costBudgetOf } from "./step-data";
import type { ExecutionStore } from "./store";
import type { ExecutionRecord, StepState } from "./types";

export function stepTask(
  record: ExecutionRecord,
  step: StepState,
  definition: Step,
  store: ExecutionStore,
  deadline: number,
  checkpoint: AgentState | null,
): StepTask {
  const agentId = definition.type === "agent" ? definition.agentId : null;
  return {
    executionId: record.id,
    workflowId: record.workflowId,
    actingUserId: actingUserOf(record),
    stepId: step.stepId,
    type: definition.type as QueuedStepType,
    attempt: step.attempt,
    idempotencyKey: step.idempotencyKey ?? "",
    lease: step.lease?.token ?? "",
    leaseMs: leaseLength(step.lease),
    claims: step.dispatch?.claims ?? 1,
    input: step.inputRef ? null : step.input,
    inputRef: step.inputRef,
    deadline,
    executionTokens: record.promptTokens + record.completionTokens,
    executionTokenBudget: record.definition.tokenBudget ?? null,
    executionCostUsd: record.costUsd === undefined ? 0 : record.costUsd,
    executionCostBudgetUsd: costBudgetOf(record),
    agent: agentId ? (store.agents()[agentId] ?? null) : null,
    checkpoint,
    streamedChars: store.streamedText.length(step.stepId, step.attempt),
    traceId: traceOf(record.id, record.trace).traceId,
    childResults: (step.children?.waitingFor ?? []).map(({ toolCallId, executionId }) => ({
      toolCallId,
      content: JSON.stringify(step.children?.results[executionId] ?? { status: "unknown" }),
    })),
  };
}

/** Who a run acts for: whoever asked for its rerun or retry, else its starter, else the workflow's owner. */
export function actingUserOf(
  record: Pick<ExecutionRecord, "actingUserId" | "triggeredBy" | "workflowOwnerId">,
): string {
  return record.actingUserId ?? record.triggeredBy ?? record.workflowOwnerId;
}
