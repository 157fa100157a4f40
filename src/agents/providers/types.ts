/** The one interface every model provider implements (OpenAI-compatible chat semantics). */

export interface ToolCall {
  id: string;
  name: string;
  /** Raw JSON text of the arguments, as the model produced it. */
  arguments: string;
}

export type ChatMessage =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string | null; toolCalls?: ToolCall[] }
  | { role: "tool"; content: string; toolCallId: string };

export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface StructuredFormat {
  name: string;
  schema: Record<string, unknown>;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  tools: ToolSpec[];
  temperature: number;
  maxTokens: number;
  /** Structured output: the answer must be JSON that `schema` validates. */
  responseFormat?: StructuredFormat;
  /** Called with each piece of text as the model streams it. */
  onToken?: (text: string) => void;
  signal: AbortSignal;
}

export interface ChatResponse {
  text: string | null;
  toolCalls: ToolCall[];
  usage: { promptTokens: number; completionTokens: number };
  model: string;
}

export interface ModelProvider {
  readonly name: string;
  chat(request: ChatRequest): Promise<ChatResponse>;
}

/** A provider failure the step's retry policy may retry (rate limits, 5xx, timeouts). */
export class ProviderError extends Error {
  readonly retryable: boolean;
  readonly status?: number;
  /** From a Retry-After header, when the provider sent one. */
  retryAfterMs?: number;
  /** `provider_timeout` when the call ran out of time; otherwise a provider or model failure. */
  readonly reason: string;

  constructor(message: string, retryable: boolean, status?: number, reason = "provider_error") {
    super(message);
    this.retryable = retryable;
    this.status = status;
    this.reason = reason;
  }
}
