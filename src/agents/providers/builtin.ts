/**
 * The deterministic built-in provider, for local development and tests only (refused unless
 * ALLOW_BUILTIN_PROVIDER=true). It answers from the conversation itself, so a workflow run
 * locally behaves the same every time: it echoes the last user message, and when tools are
 * offered it calls the first one whose name the user message mentions, once. Asked for structured
 * output, it answers a value the schema accepts, built from the schema (schema-example.ts).
 */
import { exampleOf } from "./schema-example";
import type { ChatMessage, ChatRequest, ChatResponse, ModelProvider } from "./types";

export class BuiltinProvider implements ModelProvider {
  readonly name = "builtin";

  async chat(request: ChatRequest): Promise<ChatResponse> {
    const lastUser = [...request.messages]
      .reverse()
      .find((m): m is ChatMessage & { content: string } => m.role === "user");
    const prompt = lastUser?.content ?? "";
    const toolResults = request.messages.filter((m) => m.role === "tool");
    const wanted = request.tools.find((tool) => prompt.includes(tool.name));
    const promptTokens = countTokens(request.messages.map((m) => m.content ?? "").join(" "));
    if (wanted && toolResults.length === 0) {
      return {
        text: null,
        toolCalls: [{ id: "call_builtin_1", name: wanted.name, arguments: JSON.stringify(argumentsFrom(prompt)) }],
        usage: { promptTokens, completionTokens: 5 },
        model: request.model,
      };
    }
    const echo = toolResults.length
      ? `Echo: ${prompt} | tool: ${toolResults.map((m) => m.content).join(" | ")}`
      : `Echo: ${prompt}`;
    const text = request.responseFormat ? JSON.stringify(exampleOf(request.responseFormat.schema, echo)) : echo;
    for (const word of text.split(/(?<= )/)) request.onToken?.(word);
    return { text, toolCalls: [], usage: { promptTokens, completionTokens: countTokens(text) }, model: request.model };
  }
}

/** Roughly four characters per token, like the OpenAI tokenizers on English text. */
function countTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** `key=value` pairs in the prompt become the tool's arguments. */
function argumentsFrom(prompt: string): Record<string, string> {
  return Object.fromEntries(
    [...prompt.matchAll(/(\w+)=("[^"]*"|\S+)/g)].map((m) => [m[1], m[2].replace(/^"|"$/g, "")]),
  );
}
