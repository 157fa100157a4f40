/**
 * Fault injection for the soak and the fault tests (FAULT_INJECTION, refused outside local
 * development): the steps consumer can fail its reports to the execution's object, or crash after
 * a step ran, so the recovery paths run for real.
 */
export class InjectedFault extends Error {
  constructor(what: string) {
    super(`injected fault: ${what}`);
    this.name = "InjectedFault";
  }
}
