/**
 * An agent as an execution runs it: its configuration, sealed key and enabled tools, read from
 * Postgres when the execution starts (or reruns). The execution's object hands it to each agent
 * step's consumer, so a running step never needs Postgres (docs/engine.md: an outage delays rows, never
 * fails the run). Secrets stay sealed; the consumer opens them with the keyring.
 */
import { and, eq, inArray } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { agents, agentTools } from "../db/schema";
import type { StoredAgentConfiguration } from "./configuration";
import type { ToolRow } from "./tools/toolbox";

export interface AgentSnapshot {
  id: string;
  status: string;
  configuration: StoredAgentConfiguration;
  sealedKey: string | null;
  systemPrompt: string | null;
  modelName: string | null;
  temperature: number;
  maxTokens: number;
  tools: ToolRow[];
}

/** What a snapshot reads of a workflow definition: which agents its agent steps name. */
interface UsesAgents {
  steps: ReadonlyArray<{ type: string; agentId?: unknown }>;
}

/** The agents a definition's agent steps use. */
export function agentIdsOf(definition: UsesAgents): string[] {
  const ids = definition.steps.flatMap((step) =>
    step.type === "agent" && typeof step.agentId === "string" ? [step.agentId] : [],
  );
  return [...new Set(ids)];
}

export async function loadAgentSnapshots(
  db: Queryable,
  definition: UsesAgents,
): Promise<Record<string, AgentSnapshot>> {
  const ids = agentIdsOf(definition);
  if (ids.length === 0) return {};
  const [rows, tools] = await Promise.all([
    db.select().from(agents).where(inArray(agents.id, ids)),
    db
      .select({
        id: agentTools.id,
        agentId: agentTools.agentId,
        toolName: agentTools.toolName,
        toolType: agentTools.toolType,
        configuration: agentTools.configuration,
      })
      .from(agentTools)
      .where(and(inArray(agentTools.agentId, ids), eq(agentTools.isEnabled, true))),
  ]);
  return Object.fromEntries(
    rows.map((row) => [
      row.id,
      {
        id: row.id,
        status: row.status,
        configuration: row.configuration as StoredAgentConfiguration,
        sealedKey: row.apiKey,
        systemPrompt: row.systemPrompt,
        modelName: row.modelName,
        temperature: Number(row.temperature),
        maxTokens: row.maxTokens,
        tools: tools
          .filter((tool) => tool.agentId === row.id)
          .map(({ id, toolName, toolType, configuration }) => ({ id, toolName, toolType, configuration })),
      },
    ]),
  );
}
