/**
 * Unit tests of the execution state machine on a real Durable Object's SQLite storage: commands
 * run synchronously, as the object runs them, with their effects (queue sends, flushes) left out.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { ExecutionMachine } from "../../src/durable-objects/execution/machine";
import type { StartRequest } from "../../src/durable-objects/execution/rpc";
import { ExecutionStore } from "../../src/durable-objects/execution/store";
import { DefinitionSchema } from "../../src/steps/definition";
import { LargeValues } from "../../src/steps/large-values";

export interface MachineHarness {
  /** Runs one command at time `at` (ms since the epoch) and returns its result and effects. */
  run<T>(
    at: number,
    command: (machine: ExecutionMachine, store: ExecutionStore) => T,
  ): Promise<{ result: T; effects: ExecutionMachine["effects"] }>;
  read<T>(read: (store: ExecutionStore) => T): Promise<T>;
}

export function machineFor(name = crypto.randomUUID()): MachineHarness {
  const stub = env.EXECUTIONS.get(env.EXECUTIONS.idFromName(`unit-${name}`));
  const values = new LargeValues();
  return {
    run: (at, command) =>
      runInDurableObject(stub, (_instance, state) =>
        state.storage.transactionSync(() => {
          const store = new ExecutionStore(state.storage.sql);
          const machine = new ExecutionMachine(store, values, at);
          const result = command(machine, store);
          return { result, effects: machine.effects };
        }),
      ),
    read: (read) => runInDurableObject(stub, (_instance, state) => read(new ExecutionStore(state.storage.sql))),
  };
}

export function startRequest(definition: unknown, overrides: Partial<StartRequest> = {}): StartRequest {
  return {
    executionId: crypto.randomUUID(),
    workflowId: crypto.randomUUID(),
    workflowVersionId: crypto.randomUUID(),
    versionNumber: 1,
    definition: DefinitionSchema.parse(definition),
    input: {},
    triggerType: "manual",
    triggeredBy: null,
    workflowOwnerId: crypto.randomUUID(),
    parent: null,
    createdAt: new Date(0).toISOString(),
    agents: {},
    ...overrides,
  };
}
