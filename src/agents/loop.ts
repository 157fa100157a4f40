/**
 * The agent loop: ask the model, run the tools it calls, feed their results back, until it answers
 * without tool calls. It stops at maxIterations or before a token budget (the agent's or the
 * execution's) would be exceeded. Calls to `workflow` tools start child executions; the loop then
 * returns a suspension, and a later run resumes it with their results.
 */
import type { AgentState, AgentSuspension, TokenUsage } from "../durable-objects/execution/types";
import { callModel } from "./call-model";
import { AgentError } from "./errors";
import type { ChatMessage, ModelProvider } from "./providers/types";
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
  /** The execution's budget and what it had used before this run. */
  executionBudget: number | null;
  executionTokensBefore: number;
  toolbox: Toolbox;
  onToken: (text: string) => void;
  resume: { state: AgentState; toolResults: Array<{ toolCallId: string; content: string }> } | null;
  /** Kept current with the tokens not yet reported, so a failure can still record them. */
  meter: { usage: TokenUsage };
  startChild: (
    call: PreparedCall,
    workflow: { workflowId: string; version?: number; input: Record<string, unknown> },
  ) => Promise<string>;
}

export interface AgentOutput {
  text: string;
  toolCalls: AgentState["toolCalls"];
  usage: TokenUsage;
  model: string | null;
}

export type LoopResult =
  | { kind: "done"; output: AgentOutput; usage: TokenUsage }
  | { kind: "suspend"; suspension: AgentSuspension };

export async function runLoop(input: LoopInput): Promise<LoopResult> {
  const state = input.resume ? resumed(input.resume) : fresh(input);
  for (;;) {
    if (state.iterations >= input.maxIterations) {
      throw new AgentError("max_iterations", `the agent did not finish within ${input.maxIterations} model calls`);
    }
    const maxTokens = Math.min(input.maxTokens, remainingBudget(input, state));
    const response = await callModel(
      input.provider,
      {
        messages: state.messages,
        tools: input.toolbox.specs,
        temperature: input.temperature,
        maxTokens,
        onToken: input.onToken,
      },
      input.models,
      input.timeoutMs,
    );
    state.iterations += 1;
    state.model = response.model;
    state.usage = {
      promptTokens: state.usage.promptTokens + response.usage.promptTokens,
      completionTokens: state.usage.completionTokens + response.usage.completionTokens,
    };
    input.meter.usage = unreported(state);
    if (response.toolCalls.length === 0) {
      return { kind: "done", output: outputOf(state, response.text ?? ""), usage: unreported(state) };
    }
    if (remainingBudget(input, state) <= 0) {
      throw new AgentError(
        "token_budget_exceeded",
        "the token budget is spent and the model still wants to call tools",
      );
    }
    // Validate every call before running any, so bad model output changes nothing.
    const prepared = response.toolCalls.map((call) => input.toolbox.prepare(call));
    state.messages.push({ role: "assistant", content: response.text, toolCalls: response.toolCalls });
    const waitingFor: AgentSuspension["waitingFor"] = [];
    for (const call of prepared) {
      state.toolCalls.push({ id: call.call.id, name: call.call.name, arguments: call.args });
      const outcome = await input.toolbox.run(call);
      if ("startWorkflow" in outcome) {
        waitingFor.push({ toolCallId: call.call.id, executionId: await input.startChild(call, outcome.startWorkflow) });
      } else {
        state.messages.push({ role: "tool", toolCallId: call.call.id, content: toolContent(outcome.result) });
      }
    }
    if (waitingFor.length > 0) {
      const usage = unreported(state);
      state.reported = state.usage;
      return { kind: "suspend", suspension: { state, waitingFor, usage } };
    }
  }
}

/** Tokens left under the tighter of the two budgets (Infinity when neither is set). */
function remainingBudget(input: LoopInput, state: AgentState): number {
  const used = state.usage.promptTokens + state.usage.completionTokens;
  const fresh = used - state.reported.promptTokens - state.reported.completionTokens;
  const agentLeft = input.agentBudget === null ? Infinity : input.agentBudget - used;
  const executionLeft =
    input.executionBudget === null ? Infinity : input.executionBudget - input.executionTokensBefore - fresh;
  const left = Math.min(agentLeft, executionLeft);
  if (left <= 0)
    throw new AgentError("token_budget_exceeded", "the token budget would be exceeded by another model call");
  return left;
}

function fresh(input: LoopInput): AgentState {
  const messages: ChatMessage[] = [];
  if (input.systemPrompt) messages.push({ role: "system", content: input.systemPrompt });
  messages.push({ role: "user", content: input.prompt });
  const zero = { promptTokens: 0, completionTokens: 0 };
  return { messages, iterations: 0, usage: zero, reported: zero, toolCalls: [], model: null };
}

function resumed(resume: NonNullable<LoopInput["resume"]>): AgentState {
  const state = structuredClone(resume.state);
  for (const result of resume.toolResults)
    state.messages.push({ role: "tool", toolCallId: result.toolCallId, content: result.content });
  return state;
}

function unreported(state: AgentState): TokenUsage {
  return {
    promptTokens: state.usage.promptTokens - state.reported.promptTokens,
    completionTokens: state.usage.completionTokens - state.reported.completionTokens,
  };
}

function outputOf(state: AgentState, text: string): AgentOutput {
  return { text, toolCalls: state.toolCalls, usage: state.usage, model: state.model };
}

export function toolContent(result: unknown): string {
  const text = typeof result === "string" ? result : JSON.stringify(result);
  return text.length > MAX_TOOL_RESULT_CHARS ? `${text.slice(0, MAX_TOOL_RESULT_CHARS)}…(truncated)` : text;
}
