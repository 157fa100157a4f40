/**
 * Workers AI through the `AI` binding (declared in the production environment only). Both the
 * traditional tool-calling shape (`tool_calls: [{ name, arguments }]`) and the OpenAI-style one
 * are read back. Without tools the answer streams token by token (`stream: true`, server-sent
 * events of `{ response }`); with tools it comes whole, since tool calls arrive only then.
 */
import { sseData } from "./sse";
import { type ChatMessage, type ChatRequest, type ChatResponse, type ModelProvider, ProviderError } from "./types";

/** The part of the AI binding this adapter uses (tests pass a stand-in). */
export interface AiBinding {
  run(model: string, inputs: Record<string, unknown>, options?: Record<string, unknown>): Promise<unknown>;
}

interface WorkersAiAnswer {
  response?: string | Record<string, unknown> | null;
  tool_calls?: Array<{
    id?: string;
    name?: string;
    arguments?: unknown;
    function?: { name?: string; arguments?: unknown };
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  /** Its text already went to onToken piece by piece. */
  streamed?: boolean;
}

/** Collects a streamed answer, handing each piece to onToken as it arrives. */
async function readStream(body: ReadableStream<Uint8Array>, request: ChatRequest): Promise<WorkersAiAnswer> {
  let text = "";
  let usage: WorkersAiAnswer["usage"];
  for await (const data of sseData(body)) {
    if (data === "[DONE]") break;
    let chunk: { response?: string; usage?: WorkersAiAnswer["usage"] };
    try {
      chunk = JSON.parse(data);
    } catch {
      throw new ProviderError("workers-ai streamed malformed JSON", true, undefined, "malformed_model_output");
    }
    usage = chunk.usage ?? usage;
    if (chunk.response) {
      text += chunk.response;
      request.onToken?.(chunk.response);
    }
  }
  return { response: text, usage, streamed: true };
}

export class WorkersAiProvider implements ModelProvider {
  readonly name = "workers-ai";
  private readonly ai: AiBinding;

  constructor(ai: AiBinding) {
    this.ai = ai;
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    let answer: WorkersAiAnswer;
    const stream = request.tools.length === 0 && !request.responseFormat && request.onToken !== undefined;
    try {
      const result = await this.ai.run(request.model, {
        messages: request.messages.map(toWire),
        max_tokens: request.maxTokens,
        temperature: request.temperature,
        ...(request.tools.length ? { tools: request.tools } : {}),
        // JSON mode (models that support it): the schema itself goes in `json_schema`.
        ...(request.responseFormat
          ? { response_format: { type: "json_schema", json_schema: request.responseFormat.schema } }
          : {}),
        ...(stream ? { stream: true } : {}),
      });
      answer = result instanceof ReadableStream ? await readStream(result, request) : (result as WorkersAiAnswer);
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      const message = (error as Error)?.message ?? String(error);
      // The binding reports capacity and rate limits as errors mentioning them.
      throw new ProviderError(
        `workers-ai failed: ${message}`,
        /capacity|rate|timeout|overloaded|3040|3036/i.test(message),
      );
    }
    if (!answer || typeof answer !== "object") throw new ProviderError("workers-ai returned no answer", true);
    // In JSON mode the binding may hand back the parsed object instead of its text.
    const text =
      typeof answer.response === "object" && answer.response !== null
        ? JSON.stringify(answer.response)
        : (answer.response ?? null);
    if (text && !answer.streamed) request.onToken?.(text);
    return {
      text,
      toolCalls: (answer.tool_calls ?? []).map((call, i) => {
        const name = call.function?.name ?? call.name ?? "";
        const args = call.function?.arguments ?? call.arguments ?? {};
        return { id: call.id ?? `call_${i}`, name, arguments: typeof args === "string" ? args : JSON.stringify(args) };
      }),
      usage: {
        promptTokens:
          answer.usage?.prompt_tokens ?? Math.ceil(request.messages.map((m) => m.content ?? "").join(" ").length / 4),
        completionTokens: answer.usage?.completion_tokens ?? Math.ceil((text ?? "").length / 4),
      },
      model: request.model,
    };
  }
}

function toWire(message: ChatMessage): Record<string, unknown> {
  if (message.role === "tool") return { role: "tool", content: message.content, tool_call_id: message.toolCallId };
  if (message.role === "assistant") {
    return {
      role: "assistant",
      content: message.content ?? "",
      ...(message.toolCalls?.length
        ? {
            tool_calls: message.toolCalls.map((c) => ({
              id: c.id,
              type: "function",
              function: { name: c.name, arguments: c.arguments },
            })),
          }
        : {}),
    };
  }
  return { role: message.role, content: message.content };
}
