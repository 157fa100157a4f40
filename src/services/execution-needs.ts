/**
 * What an execution's steps will need from Postgres, resolved when it starts (or reruns, or comes
 * back from Postgres): the agents its agent steps use and the secrets its http steps and those
 * agents' tools name, still sealed. With them in its object, no running step needs Postgres.
 */
import { type AgentSnapshot, loadAgentSnapshots } from "../agents/snapshot";
import type { Queryable } from "../db/client";
import type { Definition } from "../engine/definition";
import { secretNamesIn } from "../engine/template";
import type { SecretsSnapshot } from "../secrets/sealed";
import { secretsSnapshot } from "../secrets/sealed-rows";

export interface ExecutionNeeds {
  agents: Record<string, AgentSnapshot>;
  secrets: SecretsSnapshot;
}

export async function executionNeeds(
  db: Queryable,
  workflowId: string,
  definition: Definition,
): Promise<ExecutionNeeds> {
  const agents = await loadAgentSnapshots(db, definition);
  const steps = definition.steps.flatMap((step) => (step.type === "http" ? secretNamesIn(step.request) : []));
  const tools = Object.values(agents).flatMap((agent) =>
    agent.tools.flatMap((tool) => {
      const { url, headers } = tool.configuration as { url?: unknown; headers?: unknown };
      return secretNamesIn([url, headers]);
    }),
  );
  return {
    agents,
    secrets: await secretsSnapshot(db, workflowId, { steps: [...new Set(steps)], tools: [...new Set(tools)] }),
  };
}
