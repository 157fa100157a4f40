/**
 * The agent runtime behind `agent` steps: loads the agent and its enabled tools, chooses the
 * provider, and runs the loop. Every failure becomes a step error with a reason, retryable where
 * trying again can help (rate limits, timeouts, malformed model output).
 */
import { and, eq } from "drizzle-orm";
import { SYSTEM_ACTOR } from "../audit/record";
import { settings } from "../config";
import { openPlatformDatabase } from "../db/client";
import { agents, agentTools } from "../db/schema";
import type { AgentSuspension, StepOutcome, StepTask, TokenUsage } from "../durable-objects/execution/types";
import type { Bindings } from "../env";
import { AppError } from "../errors";
import { startExecution } from "../services/execution-start";
import type { StoredAgentConfiguration } from "./configuration";
import { AgentError } from "./errors";
import { runLoop } from "./loop";
import { providerFor } from "./provider-for";
import { ProviderError } from "./providers/types";
import { Toolbox } from "./tools/toolbox";

const DEFAULT_MAX_ITERATIONS = 8;
const DEFAULT_TIMEOUT_MS = 60_000;

export interface AgentRun {
  agentId: string;
  prompt: string;
  maxTokens: number | null;
  task: StepTask;
  env: Bindings;
  onToken: (text: string) => void;
}

export type AgentResult = { outcome: StepOutcome } | { suspension: AgentSuspension };

export async function runAgent(run: AgentRun): Promise<AgentResult> {
  const config = settings(run.env);
  const session = openPlatformDatabase(config, { max: 1 });
  const meter: { usage: TokenUsage } = { usage: { promptTokens: 0, completionTokens: 0 } };
  try {
    const [agent] = await session.db.select().from(agents).where(eq(agents.id, run.agentId));
    if (agent?.status !== "active") throw new AgentError("agent_unavailable", `agent ${run.agentId} is not active`);
    const tools = await session.db
      .select({ toolName: agentTools.toolName, toolType: agentTools.toolType, configuration: agentTools.configuration })
      .from(agentTools)
      .where(and(eq(agentTools.agentId, agent.id), eq(agentTools.isEnabled, true)));
    const configuration = agent.configuration as StoredAgentConfiguration;
    const provider = await providerFor(
      { agentId: agent.id, configuration, sealedKey: agent.apiKey, modelName: agent.modelName },
      run.env,
      config,
    );
    const model = agent.modelName ?? configuration.deployment ?? "default";
    const result = await runLoop({
      provider,
      models: [model, ...(configuration.fallbackModels ?? [])],
      timeoutMs: configuration.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      systemPrompt: agent.systemPrompt,
      prompt: run.prompt,
      temperature: Number(agent.temperature),
      maxTokens: run.maxTokens ?? agent.maxTokens,
      maxIterations: configuration.maxIterations ?? DEFAULT_MAX_ITERATIONS,
      agentBudget: configuration.tokenBudget ?? null,
      executionBudget: run.task.executionTokenBudget,
      executionTokensBefore: run.task.executionTokens,
      toolbox: new Toolbox(tools, config.HTTP_STEP_ALLOWLIST),
      onToken: run.onToken,
      resume: run.task.resume,
      meter,
      startChild: async (call, workflow) => {
        try {
          const child = await startExecution(session.db, run.env, {
            workflowId: workflow.workflowId,
            version: workflow.version,
            input: workflow.input,
            triggerType: "tool",
            user: null,
            audit: { ...SYSTEM_ACTOR, actorEmail: `agent:${agent.id}` },
            parent: { executionId: run.task.executionId, stepId: run.task.stepId, attempt: run.task.attempt },
          });
          return child.id;
        } catch (error) {
          if (error instanceof AppError)
            throw new AgentError("child_workflow_unavailable", `tool "${call.call.name}": ${error.message}`);
          throw error;
        }
      },
    });
    if (result.kind === "suspend") return { suspension: result.suspension };
    return { outcome: { ok: true, output: result.output, usage: result.usage } };
  } catch (error) {
    if (error instanceof AgentError || error instanceof ProviderError) {
      const status = error instanceof ProviderError ? error.status : undefined;
      return {
        outcome: {
          ok: false,
          error: { message: error.message, reason: error.reason, retryable: error.retryable, status },
          usage: meter.usage,
        },
      };
    }
    throw error;
  } finally {
    await session.close();
  }
}
