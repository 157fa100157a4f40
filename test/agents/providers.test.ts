import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { providerFor } from "../../src/agents/provider-for";
import { OpenAiCompatibleProvider } from "../../src/agents/providers/openai-compatible";
import { WorkersAiProvider } from "../../src/agents/providers/workers-ai";
import { ArithmeticError, evaluateArithmetic } from "../../src/agents/tools/arithmetic";
import { queryJsonPath } from "../../src/agents/tools/json-path";
import { settings } from "../../src/config";
import { completion } from "../helpers/openai";
import { scriptEndpoint } from "../helpers/outside";

/** A stand-in for the remote-only AI binding, recording what it was asked. */
function standInAi(answer: unknown) {
  const calls: Array<{ model: string; inputs: Record<string, unknown> }> = [];
  return {
    calls,
    binding: {
      run: async (model: string, inputs: Record<string, unknown>) => {
        calls.push({ model, inputs });
        return answer;
      },
    },
  };
}

const baseRequest = {
  messages: [
    { role: "system" as const, content: "Be brief." },
    { role: "user" as const, content: "What time is it?" },
  ],
  tools: [{ name: "clock", description: "time", parameters: { type: "object", properties: {} } }],
  temperature: 0.2,
  maxTokens: 64,
  signal: AbortSignal.timeout(5000),
};

describe("providers", () => {
  it("adapts Workers AI answers, including traditional tool calls, through the AI binding", async () => {
    const ai = standInAi({
      response: null,
      tool_calls: [{ name: "clock", arguments: { zone: "UTC" } }],
      usage: { prompt_tokens: 11, completion_tokens: 3 },
    });
    const tokens: string[] = [];
    const answer = await new WorkersAiProvider(ai.binding).chat({
      ...baseRequest,
      model: "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
      onToken: (t) => tokens.push(t),
    });
    expect(answer).toEqual({
      text: null,
      toolCalls: [{ id: "call_0", name: "clock", arguments: '{"zone":"UTC"}' }],
      usage: { promptTokens: 11, completionTokens: 3 },
      model: "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
    });
    expect(ai.calls[0].inputs).toMatchObject({ max_tokens: 64, temperature: 0.2, tools: baseRequest.tools });
    expect((ai.calls[0].inputs.messages as unknown[]).length).toBe(2);

    const plain = await new WorkersAiProvider(standInAi({ response: "noon" }).binding).chat({
      ...baseRequest,
      model: "m",
      onToken: (t) => tokens.push(t),
    });
    expect(plain.text).toBe("noon");
    expect(tokens).toEqual(["noon"]);
    expect(plain.usage.completionTokens).toBeGreaterThan(0);
  });

  it("asks Workers AI for JSON mode with the schema and reads back the object it returns", async () => {
    const schema = { type: "object", properties: { hour: { type: "integer" } }, required: ["hour"] };
    const ai = standInAi({ response: { hour: 12 }, usage: { prompt_tokens: 9, completion_tokens: 4 } });
    const answer = await new WorkersAiProvider(ai.binding).chat({
      ...baseRequest,
      tools: [],
      model: "@cf/meta/llama-3.1-8b-instruct-fast",
      responseFormat: { name: "clock", schema },
    });
    expect(ai.calls[0].inputs.response_format).toEqual({ type: "json_schema", json_schema: schema });
    expect(answer.text).toBe('{"hour":12}');
  });

  it("streams a Workers AI answer token by token when no tools are offered", async () => {
    const events = [
      '{"response":"It is"}',
      '{"response":" noon"}',
      '{"response":"","usage":{"prompt_tokens":7,"completion_tokens":2}}',
      "[DONE]",
    ];
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const data of events) controller.enqueue(new TextEncoder().encode(`data: ${data}\n\n`));
        controller.close();
      },
    });
    const ai = standInAi(body);
    const tokens: string[] = [];
    const answer = await new WorkersAiProvider(ai.binding).chat({
      ...baseRequest,
      tools: [],
      model: "@cf/meta/llama-3.1-8b-instruct-fast",
      onToken: (t) => tokens.push(t),
    });
    expect(ai.calls[0].inputs.stream).toBe(true);
    expect(tokens).toEqual(["It is", " noon"]);
    expect(answer).toMatchObject({ text: "It is noon", usage: { promptTokens: 7, completionTokens: 2 } });
  });

  it("chooses the provider from the agent's configuration and the environment", async () => {
    const config = settings(env);
    const agent = (configuration: Record<string, unknown>) => ({
      agentId: crypto.randomUUID(),
      configuration: configuration as never,
      sealedKey: null,
      modelName: "m",
    });
    const ai = standInAi({ response: "hi" });
    expect(
      await providerFor(agent({ provider: "workers-ai" }), { ...env, AI: ai.binding } as never, config),
    ).toBeInstanceOf(WorkersAiProvider);
    await expect(providerFor(agent({ provider: "workers-ai" }), env, config)).rejects.toMatchObject({
      reason: "provider_unavailable",
    });
    // A self-hosted OpenAI-compatible server (Ollama, vLLM) needs no key.
    expect(
      await providerFor(agent({ provider: "openai", baseUrl: "http://127.0.0.1:11434/v1" }), env, config),
    ).toBeInstanceOf(OpenAiCompatibleProvider);
    await expect(providerFor(agent({ provider: "openai" }), env, config)).rejects.toMatchObject({
      reason: "missing_api_key",
    });
    await expect(
      providerFor(agent({ provider: "openai", baseUrl: "http://10.0.0.5/v1" }), env, config),
    ).rejects.toMatchObject({ reason: "address_refused" });
    await expect(
      providerFor(agent({ provider: "openai", apiKeySecret: "NOPE_API_KEY" }), env, config),
    ).rejects.toMatchObject({ reason: "missing_api_key" });
    await expect(
      providerFor(agent({ provider: "builtin" }), env, { ...config, ALLOW_BUILTIN_PROVIDER: false }),
    ).rejects.toMatchObject({ reason: "provider_refused" });
  });
});

describe("built-in tools", () => {
  it("follows a provider's redirects through the address guard, its key never crossing to another origin", async () => {
    const landing = await scriptEndpoint([completion({ content: "moved here" })]);
    const moving = await scriptEndpoint([
      { status: 307, headers: { location: `${landing.otherOriginUrl}/chat/completions` } },
    ]);
    const provider = new OpenAiCompatibleProvider({
      allowlist: settings(env).HTTP_STEP_ALLOWLIST,
      flavor: "openai",
      baseUrl: moving.url,
      apiKey: "sk-redirect-key",
      stream: false,
    });
    const answer = await provider.chat({ ...baseRequest, model: "gpt-test", signal: AbortSignal.timeout(5000) });
    expect(answer.text).toBe("moved here");
    expect((await moving.requests())[0].headers.authorization).toBe("Bearer sk-redirect-key");
    expect((await landing.requests())[0].headers.authorization).toBeUndefined();

    const toMetadata = await scriptEndpoint([
      { status: 302, headers: { location: "http://169.254.169.254/latest/meta-data/" } },
    ]);
    const refused = new OpenAiCompatibleProvider({
      allowlist: settings(env).HTTP_STEP_ALLOWLIST,
      flavor: "openai",
      baseUrl: toMetadata.url,
      apiKey: "sk-redirect-key",
      stream: false,
    });
    await expect(
      refused.chat({ ...baseRequest, model: "gpt-test", signal: AbortSignal.timeout(5000) }),
    ).rejects.toMatchObject({ reason: "address_refused", retryable: false });
  });

  it("does arithmetic without eval", () => {
    expect(evaluateArithmetic("2*(3+4) - 10/4")).toBe(11.5);
    expect(evaluateArithmetic("2^3^2")).toBe(512);
    expect(evaluateArithmetic("-(-3) % 2")).toBe(1);
    for (const bad of ["1/0", "2+", "alert(1)", "(1", "1 2"])
      expect(() => evaluateArithmetic(bad)).toThrow(ArithmeticError);
  });

  it("reads JSON paths", () => {
    const doc = {
      items: [
        { name: "a", tags: ["x"] },
        { name: "b", tags: [] },
      ],
      "odd key": 1,
    };
    expect(queryJsonPath(doc, "$.items[1].name")).toEqual(["b"]);
    expect(queryJsonPath(doc, "$.items[*].name")).toEqual(["a", "b"]);
    expect(queryJsonPath(doc, "$['odd key']")).toEqual([1]);
    expect(queryJsonPath(doc, "$.missing")).toEqual([]);
  });
});
