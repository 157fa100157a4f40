import type { Bindings } from "../../env";

/** The Durable Object that owns execution `executionId` (one per execution, addressed by its id). */
export function executionStub(env: Bindings, executionId: string) {
  return env.EXECUTIONS.get(env.EXECUTIONS.idFromName(executionId));
}
