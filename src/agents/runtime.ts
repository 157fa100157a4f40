/**
 * The agent runtime: loads the agent, picks its provider, and asks the model. Every failure
 * becomes a step error that the engine's retry policy understands.
 */
import { eq } from "drizzle-orm";
import { settings } from "../config";
import { openDatabase } from "../db/client";
import { agents } from "../db/schema";
import type { StepOutcome, StepTask } from "../durable-objects/execution/types";
import type { Bindings } from "../env";
import type { StoredAgentConfiguration } from "./configuration";
import { BuiltinProvider } from "./providers/builtin";
import { type ModelProvider, ProviderError } from "./providers/types";

export interface AgentRun {
  agentId: string;
  prompt: string;
  maxTokens: number | null;
  task: StepTask;
  env: Bindings;
  onToken: (text: string) => void;
}

export async function runAgent(run: AgentRun): Promise<StepOutcome> {
  const config = settings(run.env);
  const session = openDatabase({ connectionString: config.DATABASE_URL, wsProxy: config.NEON_WS_PROXY, max: 1 });
  try {
    const [agent] = await session.db.select().from(agents).where(eq(agents.id, run.agentId));
    if (agent?.status !== "active") {
      return {
        ok: false,
        error: { message: `agent ${run.agentId} is not active`, reason: "agent_unavailable", retryable: false },
      };
    }
    const configuration = agent.configuration as StoredAgentConfiguration;
    if (configuration.provider !== "builtin") {
      return {
        ok: false,
        error: {
          message: `provider ${configuration.provider} is not available`,
          reason: "provider_unavailable",
          retryable: false,
        },
      };
    }
    if (!config.ALLOW_BUILTIN_PROVIDER) {
      return {
        ok: false,
        error: { message: "the built-in provider is disabled here", reason: "provider_refused", retryable: false },
      };
    }
    const provider: ModelProvider = new BuiltinProvider();
    const model = agent.modelName ?? "builtin";
    const messages = [
      ...(agent.systemPrompt ? [{ role: "system" as const, content: agent.systemPrompt }] : []),
      { role: "user" as const, content: run.prompt },
    ];
    const response = await provider.chat({
      model,
      messages,
      tools: [],
      temperature: Number(agent.temperature),
      maxTokens: run.maxTokens ?? agent.maxTokens,
      onToken: run.onToken,
      signal: AbortSignal.timeout(run.task.timeoutMs),
    });
    return {
      ok: true,
      output: { text: response.text ?? "", toolCalls: [], usage: response.usage, model: response.model },
      usage: response.usage,
    };
  } catch (error) {
    if (error instanceof ProviderError) {
      return {
        ok: false,
        error: { message: error.message, reason: "provider_error", retryable: error.retryable, status: error.status },
      };
    }
    throw error;
  } finally {
    await session.close();
  }
}
