/** Answers of a fake OpenAI-compatible server, scripted through the outside world. */
import type { ScriptedResponse } from "../fixtures/outside-world";

export { completion, streamed } from "../fixtures/model-answers";

import { createAgent } from "./fixtures";
import { callJson } from "./http";
import { scriptEndpoint } from "./outside";

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
