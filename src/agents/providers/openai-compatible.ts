/**
 * OpenAI-compatible Chat Completions over fetch: OpenAI itself, Azure OpenAI (deployment and
 * api-version URL, `api-key` header), and self-hosted servers such as Ollama and vLLM. Streams
 * with server-sent events when asked, collecting text and tool-call deltas as they arrive.
 */
import { AddressRefusedError } from "../../net/address-guard";
import { cappedStream, guardedRequest, ResponseTooLargeError, readCapped } from "../../net/guarded-fetch";
import { providerErrorFrom } from "./http-errors";
import { sseData } from "./sse";
import {
  type ChatMessage,
  type ChatRequest,
  type ChatResponse,
  type ModelProvider,
  ProviderError,
  type ToolCall,
} from "./types";

/** A model answer is read up to this many bytes, streamed or not. */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
/** The call's own timeout comes from the agent (request.signal); this only bounds a guard-less hang. */
const PROVIDER_CALL_CEILING_MS = 15 * 60_000;

export interface OpenAiCompatibleOptions {
  /** Hosts that may be private anyway (HTTP_STEP_ALLOWLIST). */
  allowlist: readonly string[];
  /** `openai` (also Ollama, vLLM…) or `azure-openai`. */
  flavor: "openai" | "azure-openai";
  baseUrl: string;
  apiKey: string | null;
  /** Azure: the deployment (defaults to the model name) and the API version. */
  deployment?: string;
  apiVersion?: string;
  stream: boolean;
}

interface ChoiceMessage {
  content?: string | null;
  tool_calls?: Array<{ id?: string; index?: number; function?: { name?: string; arguments?: string } }>;
}

interface Completion {
  model?: string;
  choices?: Array<{ message?: ChoiceMessage; delta?: ChoiceMessage }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

export class OpenAiCompatibleProvider implements ModelProvider {
  readonly name: string;
  private readonly options: OpenAiCompatibleOptions;

  constructor(options: OpenAiCompatibleOptions) {
    this.options = options;
    this.name = options.flavor;
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    const stream = this.options.stream;
    let response: Response;
    try {
      // Through the address guard on every redirect, the key never following one to another origin.
      response = await guardedRequest(
        this.url(request.model),
        {
          method: "POST",
          headers: this.headers(),
          body: JSON.stringify(this.body(request, stream)),
          signal: request.signal,
          timeoutMs: PROVIDER_CALL_CEILING_MS,
        },
        this.options.allowlist,
      );
    } catch (error) {
      if (error instanceof AddressRefusedError)
        throw new ProviderError(`refused: ${error.message}`, false, undefined, "address_refused");
      throw transportError(error, this.name);
    }
    if (!response.ok) throw await providerErrorFrom(response, this.name, this.options.apiKey);
    try {
      const isStream = (response.headers.get("content-type") ?? "").includes("text/event-stream");
      if (isStream && response.body) return await readStream(cappedStream(response.body, MAX_ANSWER_BYTES), request);
      const { text, truncated } = await readCapped(response, MAX_ANSWER_BYTES);
      if (truncated) throw new ResponseTooLargeError(MAX_ANSWER_BYTES);
      return toResponse(JSON.parse(text) as Completion, request);
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      // A model that answers without end is not asked again: the same prompt would do the same.
      if (error instanceof ResponseTooLargeError)
        throw new ProviderError(error.message, false, undefined, "answer_too_large");
      throw transportError(error, this.name);
    }
  }

  private url(model: string): string {
    const base = this.options.baseUrl.replace(/\/+$/, "");
    if (this.options.flavor === "azure-openai") {
      const deployment = encodeURIComponent(this.options.deployment ?? model);
      return `${base}/openai/deployments/${deployment}/chat/completions?api-version=${encodeURIComponent(this.options.apiVersion ?? "")}`;
    }
    return `${base}/chat/completions`;
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.options.apiKey) {
      if (this.options.flavor === "azure-openai") headers["api-key"] = this.options.apiKey;
      else headers.authorization = `Bearer ${this.options.apiKey}`;
    }
    return headers;
  }

  private body(request: ChatRequest, stream: boolean): Record<string, unknown> {
    return {
      model: request.model,
      messages: request.messages.map(toWire),
      temperature: request.temperature,
      max_tokens: request.maxTokens,
      ...(request.tools.length
        ? { tools: request.tools.map((tool) => ({ type: "function", function: tool })), tool_choice: "auto" }
        : {}),
      ...(request.responseFormat
        ? {
            // Not `strict`: strict mode accepts only a subset of JSON Schema; the answer is validated here anyway.
            response_format: {
              type: "json_schema",
              json_schema: { name: request.responseFormat.name, schema: request.responseFormat.schema, strict: false },
            },
          }
        : {}),
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    };
  }
}

function toWire(message: ChatMessage): Record<string, unknown> {
  if (message.role === "assistant") {
    return {
      role: "assistant",
      content: message.content,
      ...(message.toolCalls?.length
        ? {
            tool_calls: message.toolCalls.map((call) => ({
              id: call.id,
              type: "function",
              function: { name: call.name, arguments: call.arguments },
            })),
          }
        : {}),
    };
  }
  if (message.role === "tool") return { role: "tool", tool_call_id: message.toolCallId, content: message.content };
  return { role: message.role, content: message.content };
}

function toResponse(completion: Completion, request: ChatRequest): ChatResponse {
  const message = completion.choices?.[0]?.message;
  if (!message)
    throw new ProviderError("the model answered without a message", true, undefined, "malformed_model_output");
  const text = message.content ?? null;
  if (text) request.onToken?.(text);
  return {
    text,
    toolCalls: (message.tool_calls ?? []).map((call, i) => ({
      id: call.id ?? `call_${i}`,
      name: call.function?.name ?? "",
      arguments: call.function?.arguments ?? "",
    })),
    usage: usageOf(completion, request, text ?? ""),
    model: completion.model ?? request.model,
  };
}

async function readStream(body: ReadableStream<Uint8Array>, request: ChatRequest): Promise<ChatResponse> {
  let text = "";
  let model = request.model;
  let usage: Completion["usage"];
  const calls: Array<{ id: string; name: string; arguments: string }> = [];
  for await (const data of sseData(body)) {
    if (data === "[DONE]") break;
    let chunk: Completion;
    try {
      chunk = JSON.parse(data) as Completion;
    } catch {
      throw new ProviderError("the model's stream held malformed JSON", true, undefined, "malformed_model_output");
    }
    model = chunk.model ?? model;
    usage = chunk.usage ?? usage;
    const delta = chunk.choices?.[0]?.delta;
    if (delta?.content) {
      text += delta.content;
      request.onToken?.(delta.content);
    }
    for (const piece of delta?.tool_calls ?? []) {
      const index = piece.index ?? calls.length;
      calls[index] ??= { id: piece.id ?? `call_${index}`, name: "", arguments: "" };
      if (piece.id) calls[index].id = piece.id;
      calls[index].name += piece.function?.name ?? "";
      calls[index].arguments += piece.function?.arguments ?? "";
    }
  }
  const toolCalls: ToolCall[] = calls.filter(Boolean);
  return { text: text || null, toolCalls, usage: usageOf({ usage }, request, text), model };
}

/** The provider's counts, or an estimate (about four characters a token) when it sent none. */
function usageOf(completion: Completion, request: ChatRequest, text: string): ChatResponse["usage"] {
  if (completion.usage?.prompt_tokens !== undefined) {
    return {
      promptTokens: completion.usage.prompt_tokens ?? 0,
      completionTokens: completion.usage.completion_tokens ?? 0,
    };
  }
  const prompt = request.messages.map((m) => m.content ?? "").join(" ");
  return { promptTokens: Math.ceil(prompt.length / 4), completionTokens: Math.ceil(text.length / 4) };
}

function transportError(error: unknown, provider: string): ProviderError {
  const name = (error as Error)?.name;
  if (name === "TimeoutError" || name === "AbortError") {
    return new ProviderError(`${provider} did not answer in time`, true, undefined, "provider_timeout");
  }
  return new ProviderError(`${provider} could not be reached: ${(error as Error)?.message ?? error}`, true);
}
