/**
 * An agent attempt's progress: the conversation so far, the model calls made and their tokens.
 * The object keeps it as the attempt's checkpoint (docs/engine.md), so an attempt run again resumes from
 * its last model answer or tool result instead of asking the model again.
 */
import type { ChatMessage } from "./providers/types";

export interface AgentState {
  messages: ChatMessage[];
  iterations: number;
  /** Tokens of this attempt so far, and their cost (null: a model had no price). */
  usage: { promptTokens: number; completionTokens: number; costUsd?: number | null };
  /** Each tool call, with how long it ran and what it cost once it has run. */
  toolCalls: Array<{
    id: string;
    /** Where it stands in the attempt (`<model answer>.<position>`); absent in checkpoints from before. */
    key?: string;
    name: string;
    arguments: unknown;
    /** When it ran (ms since the epoch), for how long, and at what price. */
    startedAt?: number;
    durationMs?: number;
    costUsd?: number;
  }>;
  model: string | null;
  /** The cost ledger of the attempt: one entry per model call (absent in checkpoints from before). */
  modelCalls?: ModelCall[];
}

export interface ModelCall {
  model: string;
  promptTokens: number;
  completionTokens: number;
  costUsd: number | null;
  /** When the call was made (ms since the epoch) and how long it took. */
  startedAt: number;
  durationMs: number;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  /** What the tokens (and priced tool calls) cost; null when a model had no price; absent before costs existed. */
  costUsd?: number | null;
}

/**
 * An agent step handing back its conversation to wait without a consumer: for the child workflows
 * its `workflow` tools started, or for an owner to raise the cost budget its next call would exceed.
 */
export type AgentSuspension =
  | {
      kind: "children";
      state: AgentState;
      waitingFor: Array<{ toolCallId: string; executionId: string }>;
      usage: TokenUsage;
    }
  | {
      kind: "budget";
      state: AgentState;
      budget: { budgetUsd: number; spentUsd: number; nextCallUsd: number };
      usage: TokenUsage;
    };
