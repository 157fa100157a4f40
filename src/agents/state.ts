/**
 * An agent attempt's progress: the conversation so far, the model calls made and their tokens.
 * The object keeps it as the attempt's checkpoint (SPEC §5), so an attempt run again resumes from
 * its last model answer or tool result instead of asking the model again.
 */
import type { ChatMessage } from "./providers/types";

export interface AgentState {
  messages: ChatMessage[];
  iterations: number;
  /** Tokens of this attempt so far. */
  usage: { promptTokens: number; completionTokens: number };
  toolCalls: Array<{ id: string; name: string; arguments: unknown }>;
  model: string | null;
}
