/** Failures of an agent run that become step errors with a clear reason. */

export class AgentError extends Error {
  readonly reason: string;
  readonly retryable: boolean;

  constructor(reason: string, message: string, retryable = false) {
    super(message);
    this.reason = reason;
    this.retryable = retryable;
  }
}
