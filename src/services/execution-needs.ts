/**
 * What an execution's steps will need from Postgres, resolved when it starts (or reruns, or comes
 * back from Postgres): the agents its agent steps use and the secrets its http steps and those
 * agents' tools name, still sealed. With them in its object, no running step needs Postgres.
 */
import { type AgentSnapshot, loadAgentSnapshots } from "../agents/snapshot";
import type { Queryable } from "../db/client";
import type { Definition } from "../engine/definition";
import { secretNamesIn } from "../engine/template";
import type { SealedSecret } from "../secrets/sealed";
import { sealedSecretsFor } from "../secrets/sealed-rows";

export interface ExecutionNeeds {
  agents: Record<string, AgentSnapshot>;
  secrets: Record<string, SealedSecret>;
}

export async function executionNeeds(
  db: Queryable,
  workflowId: string,
  definition: Definition,
): Promise<ExecutionNeeds> {
  const agents = await loadAgentSnapshots(db, definition);
  const names = new Set<string>();
  for (const step of definition.steps)
    if (step.type === "http") for (const name of secretNamesIn(step.request)) names.add(name);
  for (const agent of Object.values(agents)) {
    for (const tool of agent.tools) {
      const { url, headers } = tool.configuration as { url?: unknown; headers?: unknown };
      for (const name of secretNamesIn([url, headers])) names.add(name);
    }
  }
  return { agents, secrets: await sealedSecretsFor(db, workflowId, [...names]) };
}
