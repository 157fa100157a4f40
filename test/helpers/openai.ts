/** Answers of a fake OpenAI-compatible server, scripted through the outside world. */
import type { ScriptedResponse } from "../fixtures/outside-world";
import { createAgent } from "./fixtures";
import { callJson } from "./http";
import { scriptEndpoint } from "./outside";

interface Answer {
  content?: string | null;
  toolCalls?: Array<{ name: string; arguments: unknown; id?: string }>;
  usage?: { prompt: number; completion: number };
  model?: string;
}

const wireCalls = (calls: Answer["toolCalls"]) =>
  calls?.map((call, i) => ({
    id: call.id ?? `call_${i + 1}`,
    type: "function",
    function: {
      name: call.name,
      arguments: typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments),
    },
  }));

/** A non-streamed chat completion. */
export function completion(answer: Answer): ScriptedResponse {
  return {
    status: 200,
    body: {
      id: "chatcmpl-test",
      object: "chat.completion",
      model: answer.model ?? "gpt-test",
      choices: [
        {
          index: 0,
          finish_reason: answer.toolCalls ? "tool_calls" : "stop",
          message: { role: "assistant", content: answer.content ?? null, tool_calls: wireCalls(answer.toolCalls) },
        },
      ],
      usage: { prompt_tokens: answer.usage?.prompt ?? 12, completion_tokens: answer.usage?.completion ?? 7 },
    },
  };
}

/** A streamed chat completion: one SSE chunk per text piece, then usage and [DONE]. */
export function streamed(
  pieces: string[],
  extra: Partial<ScriptedResponse> = {},
  usage = { prompt: 20, completion: 9 },
): ScriptedResponse {
  return {
    status: 200,
    sse: [
      ...pieces.map((text) => ({ model: "gpt-test", choices: [{ index: 0, delta: { content: text } }] })),
      { model: "gpt-test", choices: [], usage: { prompt_tokens: usage.prompt, completion_tokens: usage.completion } },
      "[DONE]",
    ],
    ...extra,
  };
}

/** A fake model endpoint and an agent pointed at it (OpenAI flavour unless configured otherwise). */
export async function fakeModelAgent(
  adminToken: string,
  responses: ScriptedResponse[],
  configuration: Record<string, unknown> = {},
  agent: Record<string, unknown> = {},
) {
  const endpoint = await scriptEndpoint(responses);
  const created = await createAgent(adminToken, {
    modelName: "gpt-test",
    systemPrompt: "You are terse.",
    temperature: 0.1,
    maxTokens: 300,
    configuration: {
      provider: "openai",
      baseUrl: endpoint.url,
      apiKey: "sk-fake-key",
      stream: false,
      ...configuration,
    },
    ...agent,
  });
  return { endpoint, agent: created };
}

export async function addTool(adminToken: string, agentId: string, tool: Record<string, unknown>) {
  const res = await callJson(`/api/v1/agents/${agentId}/tools`, { token: adminToken, body: tool });
  if (res.status !== 201) throw new Error(`tool: ${JSON.stringify(res.body)}`);
  return res.body;
}
