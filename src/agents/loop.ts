/**
 * The agent loop: ask the model, run the tools it calls, feed their results back, until it answers
 * without tool calls. It stops at maxIterations or before a token budget (the agent's or the
 * execution's) would be exceeded. Each model answer and each tool result is checkpointed, so an
 * attempt run again (a redelivery, a lease taken over) resumes where the last one stopped: it
 * neither asks the model again nor repeats a tool call. Calls to `workflow` tools start child
 * executions; the loop then returns a suspension, and a later run resumes with their results.
 */

import { callModel } from "./call-model";
import { attemptCost, budgetShortfall, type CostBudget } from "./cost-budget";
import { AgentError } from "./errors";
import { addCosts, callCost, type ModelPrices, priceOf } from "./pricing";
import type { ChatMessage, ModelProvider, StructuredFormat, ToolCall } from "./providers/types";
import type { AgentState, AgentSuspension, ModelCall, TokenUsage } from "./state";
import { structuredObject } from "./structured-output";
import type { PreparedCall, Toolbox } from "./tools/toolbox";

/** Tool results longer than this are cut before they go back to the model. */
const MAX_TOOL_RESULT_CHARS = 16_000;

export interface LoopInput {
  provider: ModelProvider;
  models: string[];
  timeoutMs: number;
  systemPrompt: string | null;
  prompt: string;
  temperature: number;
  maxTokens: number;
  maxIterations: number;
  agentBudget: number | null;
  /** The execution's budget and what it had used when this run began (its checkpoint included). */
  executionBudget: number | null;
  executionTokensBefore: number;
  toolbox: Toolbox;
  /** MODEL_PRICES: what each model call costs. */
  prices: ModelPrices;
  /** The execution's cost budget, when its definition sets one. */
  costBudget: CostBudget | null;
  /** Structured output: the final answer must be JSON this schema validates. */
  responseFormat: StructuredFormat | null;
  onToken: (text: string) => void;
  /** Where the attempt got to before, and the results of the child workflows it waited for. */
  checkpoint: AgentState | null;
  childResults: Array<{ toolCallId: string; content: string }>;
  /** Saves progress; false when another consumer has taken the attempt over. */
  saveCheckpoint: (state: AgentState) => Promise<boolean>;
  /** Ends the run at the attempt's deadline or when its lease is lost. */
  signal: AbortSignal;
  /** Kept current, so a failure can still report the tokens spent. */
  meter: { usage: TokenUsage };
  /** Starts (or finds, on a re-run) the child execution of a workflow tool call, or says why it may not. */
  startChild: (
    call: PreparedCall,
    workflow: { workflowId: string; version?: number; input: Record<string, unknown> },
  ) => Promise<{ executionId: string } | { refused: string }>;
}

export interface AgentOutput {
  text: string;
  /** The answer parsed and validated, with `responseFormat`. */
  object?: unknown;
  toolCalls: AgentState["toolCalls"];
  usage: TokenUsage;
  model: string | null;
  modelCalls: ModelCall[];
}

export type LoopResult =
  | { kind: "done"; output: AgentOutput; usage: TokenUsage }
  | { kind: "suspend"; suspension: AgentSuspension };

export async function runLoop(input: LoopInput): Promise<LoopResult> {
  const state = input.checkpoint ? resumed(input.checkpoint, input.childResults) : fresh(input);
  const usageAtStart = total(state.usage);
  const costAtStart = attemptCost(state);
  input.meter.usage = state.usage;
  for (;;) {
    const pending = pendingToolCalls(state);
    if (pending.length > 0) {
      const suspension = await runTools(input, state, pending);
      if (suspension) return { kind: "suspend", suspension };
      continue;
    }
    const last = state.messages[state.messages.length - 1];
    if (last.role === "assistant") {
      // The checkpoint holds the model's final answer: the attempt only has to report it.
      return { kind: "done", output: outputOf(input, state, last.content ?? ""), usage: state.usage };
    }
    if (state.iterations >= input.maxIterations) {
      throw new AgentError("max_iterations", `the agent did not finish within ${input.maxIterations} model calls`);
    }
    input.signal.throwIfAborted();
    const maxTokens = Math.min(input.maxTokens, remainingBudget(input, state, usageAtStart));
    const shortfall =
      input.costBudget &&
      budgetShortfall(
        input.costBudget,
        { prices: input.prices, model: input.models[0], maxTokens },
        state,
        costAtStart,
      );
    if (shortfall)
      return { kind: "suspend", suspension: { kind: "budget", state, budget: shortfall, usage: state.usage } };
    const callStarted = Date.now();
    const response = await callModel(
      input.provider,
      {
        messages: state.messages,
        tools: input.toolbox.specs,
        temperature: input.temperature,
        maxTokens,
        responseFormat: input.responseFormat ?? undefined,
        onToken: input.onToken,
      },
      input.models,
      input.timeoutMs,
      input.signal,
    );
    state.iterations += 1;
    state.model = response.model;
    const costUsd = callCost(priceOf(input.prices, response.model), response.usage);
    state.modelCalls = [
      ...(state.modelCalls ?? []),
      {
        model: response.model,
        ...response.usage,
        costUsd,
        startedAt: callStarted,
        durationMs: Date.now() - callStarted,
      },
    ];
    state.usage = {
      promptTokens: state.usage.promptTokens + response.usage.promptTokens,
      completionTokens: state.usage.completionTokens + response.usage.completionTokens,
      costUsd: addCosts(attemptCost(state), costUsd),
    };
    input.meter.usage = state.usage;
    if (response.toolCalls.length > 0) {
      if (remainingBudget(input, state, usageAtStart, false) <= 0) {
        throw new AgentError(
          "token_budget_exceeded",
          "the token budget is spent and the model still wants to call tools",
        );
      }
      // Validate every call before saving the answer, so bad model output changes nothing.
      for (const [index, call] of response.toolCalls.entries()) {
        const prepared = input.toolbox.prepare(call, callKey(state.iterations, index));
        state.toolCalls.push({ id: call.id, key: prepared.key, name: call.name, arguments: prepared.args });
      }
    } else if (input.responseFormat) {
      // Checked before the answer is saved, so an attempt run again asks the model afresh.
      structuredObject(response.text ?? "", input.responseFormat);
    }
    state.messages.push({ role: "assistant", content: response.text, toolCalls: response.toolCalls });
    await save(input, state);
  }
}

/** Runs the calls of the last answer that have no result yet; a suspension when children started. */
async function runTools(
  input: LoopInput,
  state: AgentState,
  pending: Array<{ call: ToolCall; key: string }>,
): Promise<AgentSuspension | null> {
  const waitingFor: Array<{ toolCallId: string; executionId: string }> = [];
  for (const { call, key } of pending) {
    input.signal.throwIfAborted();
    const prepared = input.toolbox.prepare(call, key);
    const started = Date.now();
    const outcome = await input.toolbox.run(prepared);
    recordToolCall(state, prepared, started, input.toolbox.costOf(prepared));
    if ("startWorkflow" in outcome) {
      const child = await input.startChild(prepared, outcome.startWorkflow);
      if ("executionId" in child) {
        waitingFor.push({ toolCallId: call.id, executionId: child.executionId });
        continue;
      }
      // A refusal (no permission, input that breaks the schema) is the model's to handle.
      state.messages.push({ role: "tool", toolCallId: call.id, content: toolContent({ error: child.refused }) });
      await save(input, state);
      continue;
    }
    state.messages.push({ role: "tool", toolCallId: call.id, content: toolContent(outcome.result) });
    await save(input, state);
  }
  return waitingFor.length > 0 ? { kind: "children", state, waitingFor, usage: state.usage } : null;
}

async function save(input: LoopInput, state: AgentState): Promise<void> {
  if (!(await input.saveCheckpoint(structuredClone(state)))) {
    throw new AgentError("lease_lost", "another consumer took this attempt over", true);
  }
}

/** The last answer's tool calls that have no result (and wait for no child) yet, with their positions. */
function pendingToolCalls(state: AgentState): Array<{ call: ToolCall; key: string }> {
  let index = state.messages.length - 1;
  while (index >= 0 && state.messages[index].role === "tool") index--;
  const answer = state.messages[index];
  if (answer?.role !== "assistant" || !answer.toolCalls?.length) return [];
  // Each model call adds one answer: this answer's number is how many answers lead up to it.
  const round = state.messages.slice(0, index + 1).filter((message) => message.role === "assistant").length;
  const answered = new Set(
    state.messages.slice(index + 1).flatMap((message) => (message.role === "tool" ? [message.toolCallId] : [])),
  );
  return answer.toolCalls
    .map((call, position) => ({ call, key: callKey(round, position) }))
    .filter(({ call }) => !answered.has(call.id));
}

/** A tool call's place in the attempt: its model answer (from 1) and its position there (from 1). */
function callKey(round: number, position: number): string {
  return `${round}.${position + 1}`;
}

/** Tokens left under the tighter of the two budgets (Infinity when neither is set). */
function remainingBudget(input: LoopInput, state: AgentState, usageAtStart: number, throwWhenSpent = true): number {
  const used = total(state.usage);
  const agentLeft = input.agentBudget === null ? Infinity : input.agentBudget - used;
  const executionLeft =
    input.executionBudget === null
      ? Infinity
      : input.executionBudget - input.executionTokensBefore - (used - usageAtStart);
  const left = Math.min(agentLeft, executionLeft);
  if (left <= 0 && throwWhenSpent)
    throw new AgentError("token_budget_exceeded", "the token budget would be exceeded by another model call");
  return left;
}

function fresh(input: LoopInput): AgentState {
  const messages: ChatMessage[] = [];
  if (input.systemPrompt) messages.push({ role: "system", content: input.systemPrompt });
  messages.push({ role: "user", content: input.prompt });
  return { messages, iterations: 0, usage: { promptTokens: 0, completionTokens: 0 }, toolCalls: [], model: null };
}

function resumed(checkpoint: AgentState, childResults: LoopInput["childResults"]): AgentState {
  const state = structuredClone(checkpoint);
  // Children answer calls of the last answer only (an earlier answer may have used the same ids).
  const lastAnswer = state.messages.findLastIndex((m) => m.role === "assistant");
  const answered = new Set(
    state.messages.slice(lastAnswer + 1).flatMap((m) => (m.role === "tool" ? [m.toolCallId] : [])),
  );
  for (const result of childResults) {
    if (!answered.has(result.toolCallId))
      state.messages.push({ role: "tool", toolCallId: result.toolCallId, content: result.content });
  }
  return state;
}

/** A tool call's duration and price, counted into the attempt's cost. */
function recordToolCall(state: AgentState, prepared: PreparedCall, startedAt: number, costUsd: number): void {
  const entry =
    state.toolCalls.find((call) => call.key === prepared.key) ??
    state.toolCalls.find((call) => call.key === undefined && call.id === prepared.call.id);
  if (entry) Object.assign(entry, { startedAt, durationMs: Date.now() - startedAt, costUsd });
  if (costUsd > 0) state.usage = { ...state.usage, costUsd: addCosts(attemptCost(state), costUsd) };
}

function total(usage: TokenUsage): number {
  return usage.promptTokens + usage.completionTokens;
}

function outputOf(input: LoopInput, state: AgentState, text: string): AgentOutput {
  const object = input.responseFormat ? { object: structuredObject(text, input.responseFormat) } : {};
  return {
    text,
    ...object,
    toolCalls: state.toolCalls,
    usage: state.usage,
    model: state.model,
    modelCalls: state.modelCalls ?? [],
  };
}

export function toolContent(result: unknown): string {
  const text = typeof result === "string" ? result : JSON.stringify(result);
  return text.length > MAX_TOOL_RESULT_CHARS ? `${text.slice(0, MAX_TOOL_RESULT_CHARS)}…(truncated)` : text;
}
