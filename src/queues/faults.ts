/**
 * Fault injection for the soak and the fault tests (FAULT_INJECTION, refused outside local
 * development): the steps consumer can fail its reports to the execution's object, or crash after
 * a step ran, so the recovery paths run for real.
 */
import { z } from "zod";

export const FaultsSchema = z.strictObject({
  /** The first N report tries of a step's first claim in its run throw, as if the object were unreachable. */
  failReports: z.number().int().min(0).default(0),
  /** Each report attempt throws with this probability. */
  reportFailureRate: z.number().min(0).max(1).default(0),
  /** With this probability the consumer dies after the step ran, before reporting or stashing. */
  crashAfterRunRate: z.number().min(0).max(1).default(0),
});
export type Faults = z.infer<typeof FaultsSchema>;

export const NO_FAULTS: Faults = FaultsSchema.parse({});

export class InjectedFault extends Error {
  constructor(what: string) {
    super(`injected fault: ${what}`);
    this.name = "InjectedFault";
  }
}
