/**
 * The agent runtime behind `agent` steps. Everything it needs travels with the claimed task (the
 * agent as it was resolved when the execution started, its checkpoint), so a Postgres outage
 * cannot fail a step; only a workflow tool, which starts a child execution, opens the database.
 * Every failure becomes a step error with a reason, retryable where trying again can help.
 */
import { AgentError } from "../../agents/errors";
import { runLoop } from "../../agents/loop";
import { providerFor } from "../../agents/provider-for";
import { ProviderError, type StructuredFormat } from "../../agents/providers/types";
import type { TokenUsage } from "../../agents/state";
import { currentToolHeaders } from "../../agents/tools/tool-headers";
import { Toolbox } from "../../agents/tools/toolbox";
import { settings } from "../../config";
import { derivedUuid } from "../../crypto/derived-uuid";
import { keyringOf } from "../../crypto/keyring-of";
import { formatTraceparent, toolCallSpanId } from "../../observability/tracing/trace-context";
import { SecretResolver } from "../../secrets/resolver";
import { SealedSecretSource, SecretsUnavailableError } from "../../secrets/sealed-source";
import type { RunContext, RunResult } from "../kind";
import type { StepOutcome, StepTask } from "../task";

const DEFAULT_MAX_ITERATIONS = 8;
const DEFAULT_TIMEOUT_MS = 60_000;

export interface AgentInput {
  agentId: string;
  prompt: string;
  maxTokens: number | null;
  /** Absent in tasks dispatched before structured output existed. */
  responseFormat?: StructuredFormat | null;
}

export async function runAgent(task: StepTask, input: AgentInput, context: RunContext): Promise<RunResult> {
  const config = settings(context.env);
  const meter: { usage: TokenUsage } = { usage: { promptTokens: 0, completionTokens: 0 } };
  const sealedSecrets = new SealedSecretSource(config, { kind: "tools" });
  try {
    const agent = task.agent;
    if (agent?.id !== input.agentId || agent.status !== "active")
      throw new AgentError("agent_unavailable", `agent ${input.agentId} is not active`);
    const { configuration } = agent;
    const provider = await providerFor(
      { agentId: agent.id, configuration, sealedKey: agent.sealedKey, modelName: agent.modelName },
      context.env,
      config,
    );
    const model = agent.modelName ?? configuration.deployment ?? "default";
    const result = await runLoop({
      provider,
      models: [model, ...(configuration.fallbackModels ?? [])],
      timeoutMs: configuration.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      systemPrompt: agent.systemPrompt,
      prompt: input.prompt,
      temperature: agent.temperature,
      maxTokens: input.maxTokens ?? agent.maxTokens,
      maxIterations: configuration.maxIterations ?? DEFAULT_MAX_ITERATIONS,
      agentBudget: configuration.tokenBudget ?? null,
      executionBudget: task.executionTokenBudget,
      executionTokensBefore: task.executionTokens,
      toolbox: await Toolbox.open(agent.tools, {
        allowlist: config.HTTP_STEP_ALLOWLIST,
        idempotencyKey: task.idempotencyKey,
        keyring: keyringOf(config),
        secrets: new SecretResolver(sealedSecrets.lookup, keyringOf(config)),
        currentHeaders: (toolId) => currentToolHeaders(config, toolId),
        signal: context.signal,
        traceparentOf: (callKey) =>
          formatTraceparent(task.traceId, toolCallSpanId(task.executionId, task.stepId, task.attempt, callKey)),
      }),
      responseFormat: input.responseFormat ?? null,
      prices: config.MODEL_PRICES,
      costBudget:
        task.executionCostBudgetUsd === null || task.executionCostBudgetUsd === undefined
          ? null
          : { budgetUsd: task.executionCostBudgetUsd, spentBeforeUsd: task.executionCostUsd ?? 0 },
      onToken: context.onToken,
      checkpoint: task.checkpoint,
      childResults: task.childResults,
      saveCheckpoint: context.checkpoint,
      signal: context.signal,
      meter,
      // The child's id is derived from the step's key and the call's place in the attempt, so an
      // attempt run again finds the child it started instead of a second, and a later call
      // (whatever id the provider gave it) starts its own.
      startChild: (call, workflow) =>
        context.startChild({
          ...workflow,
          executionId: derivedUuid(`${task.idempotencyKey}:${call.key}`),
          actingUserId: task.actingUserId,
          startedBy: `agent:${agent.id}`,
          parent: { executionId: task.executionId, stepId: task.stepId, attempt: task.attempt },
          triggerType: "tool",
        }),
    });
    if (result.kind === "suspend") return { suspension: result.suspension };
    return { outcome: { ok: true, output: result.output, usage: result.usage } };
  } catch (error) {
    const outcome = stepErrorOf(error, meter.usage);
    if (outcome) return { outcome };
    throw error;
  } finally {
    await sealedSecrets.close();
  }
}

function stepErrorOf(error: unknown, usage: TokenUsage): StepOutcome | null {
  if (error instanceof SecretsUnavailableError)
    return { ok: false, error: { message: error.message, reason: "secrets_unavailable", retryable: true }, usage };
  if (!(error instanceof AgentError) && !(error instanceof ProviderError)) return null;
  const status = error instanceof ProviderError ? error.status : undefined;
  return {
    ok: false,
    error: { message: error.message, reason: error.reason, retryable: error.retryable, status },
    usage,
  };
}
