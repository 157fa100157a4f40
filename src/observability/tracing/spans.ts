/**
 * The spans of an execution's trace (docs/operations.md), built from its durable state when something ends:
 * the execution, each step attempt, and inside an agent attempt each model call and tool call,
 * named and attributed per the OpenTelemetry GenAI conventions (semantic-conventions 1.45.0,
 * pinned in package.json).
 */
import {
  ATTR_GEN_AI_AGENT_ID,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
  GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT,
  GEN_AI_OPERATION_NAME_VALUE_INVOKE_WORKFLOW,
} from "@opentelemetry/semantic-conventions/incubating";
import { attemptSpanId, executionSpanId, modelCallSpanId, type TraceContext, toolCallSpanId } from "./trace-context";

export type AttributeValue = string | number | boolean;

export interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: "internal" | "client" | "server";
  startMs: number;
  endMs: number;
  attributes: Record<string, AttributeValue>;
  /** Set when the work failed, with why. */
  error: string | null;
}

export interface ExecutionFacts {
  id: string;
  workflowId: string;
  trace: TraceContext;
  status: string;
  startedAt: string;
  completedAt: string;
  error: string | null;
}

export function executionSpan(execution: ExecutionFacts): Span {
  return {
    traceId: execution.trace.traceId,
    spanId: executionSpanId(execution.id),
    parentSpanId: execution.trace.parentSpanId,
    name: `${GEN_AI_OPERATION_NAME_VALUE_INVOKE_WORKFLOW} ${execution.workflowId}`,
    kind: "internal",
    startMs: Date.parse(execution.startedAt),
    endMs: Date.parse(execution.completedAt),
    attributes: {
      [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_INVOKE_WORKFLOW,
      "ipa.execution.id": execution.id,
      "ipa.workflow.id": execution.workflowId,
      "ipa.execution.status": execution.status,
    },
    error: execution.error,
  };
}

export interface AttemptFacts {
  executionId: string;
  trace: TraceContext;
  stepId: string;
  type: string;
  attempt: number;
  startedAt: string;
  endedAt: string;
  error: string | null;
  /** Agent steps: the agent, its provider, and the attempt's ledger (output or last checkpoint). */
  agent?: { id: string; provider: string; requestModel: string; ledger: AgentLedger };
}

/** What the spans read of an agent attempt's ledger (agents/state.ts keeps the whole of it). */
export interface AgentLedger {
  modelCalls?: ReadonlyArray<{
    model: string;
    promptTokens: number;
    completionTokens: number;
    costUsd: number | null;
    startedAt?: number;
    durationMs: number;
  }>;
  toolCalls: ReadonlyArray<{
    id: string;
    key?: string;
    name: string;
    startedAt?: number;
    durationMs?: number;
    costUsd?: number;
  }>;
}

/** The attempt's span, and for an agent attempt one span per model call and per tool call under it. */
export function attemptSpans(facts: AttemptFacts): Span[] {
  const spanId = attemptSpanId(facts.executionId, facts.stepId, facts.attempt);
  const base = { traceId: facts.trace.traceId, kind: "internal" as const };
  const agent = facts.agent;
  const step: Span = {
    ...base,
    spanId,
    parentSpanId: executionSpanId(facts.executionId),
    name: agent ? `${GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT} ${agent.id}` : `step ${facts.stepId}`,
    startMs: Date.parse(facts.startedAt),
    endMs: Date.parse(facts.endedAt),
    attributes: {
      "ipa.step.id": facts.stepId,
      "ipa.step.type": facts.type,
      "ipa.step.attempt": facts.attempt,
      ...(agent
        ? { [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT, [ATTR_GEN_AI_AGENT_ID]: agent.id }
        : {}),
    },
    error: facts.error,
  };
  if (!agent) return [step];
  const models = (agent.ledger.modelCalls ?? []).flatMap((call, index): Span[] =>
    call.startedAt === undefined
      ? []
      : [
          {
            ...base,
            kind: "client",
            spanId: modelCallSpanId(facts.executionId, facts.stepId, facts.attempt, index),
            parentSpanId: spanId,
            name: `${GEN_AI_OPERATION_NAME_VALUE_CHAT} ${agent.requestModel}`,
            startMs: call.startedAt,
            endMs: call.startedAt + call.durationMs,
            attributes: {
              [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_CHAT,
              [ATTR_GEN_AI_PROVIDER_NAME]: agent.provider,
              [ATTR_GEN_AI_REQUEST_MODEL]: agent.requestModel,
              [ATTR_GEN_AI_RESPONSE_MODEL]: call.model,
              [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: call.promptTokens,
              [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: call.completionTokens,
              ...(call.costUsd === null ? {} : { "ipa.cost_usd": call.costUsd }),
            },
            error: null,
          },
        ],
  );
  const tools = agent.ledger.toolCalls.flatMap((call): Span[] =>
    call.startedAt === undefined || call.durationMs === undefined
      ? []
      : [
          {
            ...base,
            spanId: toolCallSpanId(facts.executionId, facts.stepId, facts.attempt, call.key ?? call.id),
            parentSpanId: spanId,
            name: `${GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL} ${call.name}`,
            startMs: call.startedAt,
            endMs: call.startedAt + call.durationMs,
            attributes: {
              [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
              [ATTR_GEN_AI_TOOL_NAME]: call.name,
              [ATTR_GEN_AI_TOOL_CALL_ID]: call.id,
              ...(call.costUsd ? { "ipa.cost_usd": call.costUsd } : {}),
            },
            error: null,
          },
        ],
  );
  return [step, ...models, ...tools];
}
