/**
 * What an execution's steps will need from Postgres, resolved when it starts (or reruns, or comes
 * back from Postgres): the agents its agent steps use. With them in its object, an agent step
 * needs Postgres only for what must be current when it is sent: the secrets its requests carry.
 */
import { type AgentSnapshot, loadAgentSnapshots } from "../agents/snapshot";
import type { Queryable } from "../db/client";
import type { Definition } from "../steps/definition";
import { nestedSteps } from "../steps/step-references";

export interface ExecutionNeeds {
  agents: Record<string, AgentSnapshot>;
}

export async function executionNeeds(db: Queryable, definition: Definition): Promise<ExecutionNeeds> {
  // Inner steps too: a map's, a loop's or a compensation's agent step runs on the same snapshot.
  const steps = definition.steps.flatMap((step) => nestedSteps(step).map(({ step: inner }) => inner));
  return { agents: await loadAgentSnapshots(db, { steps }) };
}
