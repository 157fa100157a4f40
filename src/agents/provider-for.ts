/**
 * Chooses an agent's provider and its credentials: a per-agent key (decrypted with the keyring),
 * or a named Worker secret, never both and never returned. Base URLs pass the same address guard
 * as http steps.
 */
import type { Settings } from "../config";
import { keyringOf } from "../crypto/keyring-of";
import type { Bindings } from "../env";
import { AddressRefusedError, assertPublicUrl } from "../net/address-guard";
import type { StoredAgentConfiguration } from "./configuration";
import { AgentError } from "./errors";
import { BuiltinProvider } from "./providers/builtin";
import { OpenAiCompatibleProvider } from "./providers/openai-compatible";
import type { ModelProvider } from "./providers/types";
import { type AiBinding, WorkersAiProvider } from "./providers/workers-ai";
import { agentKeyBinding, currentSealedAgentKey } from "./sealed-key";

export const OPENAI_BASE_URL = "https://api.openai.com/v1";

export interface AgentCredentials {
  agentId: string;
  configuration: StoredAgentConfiguration;
  sealedKey: string | null;
  modelName: string | null;
}

export async function providerFor(agent: AgentCredentials, env: Bindings, config: Settings): Promise<ModelProvider> {
  const { configuration } = agent;
  switch (configuration.provider) {
    case "builtin":
      if (!config.ALLOW_BUILTIN_PROVIDER) {
        throw new AgentError("provider_refused", "the built-in provider is disabled here (ALLOW_BUILTIN_PROVIDER)");
      }
      return new BuiltinProvider();
    case "workers-ai": {
      const ai = (env as { AI?: AiBinding }).AI;
      if (!ai)
        throw new AgentError(
          "provider_unavailable",
          "the Workers AI binding (AI) is not configured in this environment",
        );
      return new WorkersAiProvider(ai);
    }
    case "openai":
    case "azure-openai": {
      const baseUrl = configuration.baseUrl ?? (configuration.provider === "openai" ? OPENAI_BASE_URL : "");
      try {
        assertPublicUrl(baseUrl, config.HTTP_STEP_ALLOWLIST);
      } catch (error) {
        if (error instanceof AddressRefusedError)
          throw new AgentError("address_refused", `baseUrl refused: ${error.message}`);
        throw error;
      }
      const apiKey = await apiKeyOf(agent, env, config);
      if (!apiKey && (configuration.provider === "azure-openai" || baseUrl === OPENAI_BASE_URL)) {
        throw new AgentError("missing_api_key", `the agent has no API key for ${configuration.provider}`);
      }
      return new OpenAiCompatibleProvider({
        allowlist: config.HTTP_STEP_ALLOWLIST,
        flavor: configuration.provider,
        baseUrl,
        apiKey,
        deployment: configuration.deployment ?? agent.modelName ?? undefined,
        apiVersion: configuration.apiVersion,
        stream: configuration.stream ?? true,
      });
    }
  }
}

async function apiKeyOf(agent: AgentCredentials, env: Bindings, config: Settings): Promise<string | null> {
  if (agent.sealedKey) {
    const keyring = keyringOf(config);
    // Sealed under a key since retired: the re-encryption job has re-sealed the agent's row.
    const sealed = keyring.has(keyring.keyIdOf(agent.sealedKey))
      ? agent.sealedKey
      : await currentSealedAgentKey(config, agent.agentId);
    if (!sealed) throw new AgentError("missing_api_key", "the agent's API key was removed");
    return keyring.decrypt(sealed, agentKeyBinding(agent.agentId));
  }
  const secretName = agent.configuration.apiKeySecret;
  if (!secretName) return null;
  const value = (env as unknown as Record<string, unknown>)[secretName];
  if (typeof value !== "string" || !value)
    throw new AgentError("missing_api_key", `the Worker secret ${secretName} is not set`);
  return value;
}
