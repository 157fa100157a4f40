/**
 * The timers that share an execution object's single alarm, as one typed union: each kind carries
 * exactly what its handler needs, and the handler table in the machine is exhaustive over it.
 */

export type Timer =
  /** A failed attempt's pause before the next one. */
  | { kind: "retry"; stepId: string; attempt: number }
  /** A step's own wait ran out (a delay elapsed, an approval or an event timed out). */
  | { kind: "wait"; stepId: string; attempt: number }
  /** A queued attempt's message is unsent, or sent and not claimed yet: (re)send it. */
  | { kind: "dispatch"; stepId: string; attempt: number }
  /** A claimed attempt's lease ran out without a heartbeat: its consumer is presumed gone. */
  | { kind: "lease"; stepId: string; attempt: number }
  /** A claimed attempt has run longer than its timeout. */
  | { kind: "step_timeout"; stepId: string; attempt: number }
  /** An agent step waits for child executions: ask them, in case a notification was lost. */
  | { kind: "children"; stepId: string; attempt: number }
  | { kind: "execution_timeout" }
  /** The execution ended: cancel the child executions its steps were waiting for, until each has been told. */
  | { kind: "cancel_children"; executionIds: string[] }
  /** Retry the outbox to Postgres. */
  | { kind: "flush" }
  /** Tell the parent execution that this child ended, until it has listened. */
  | { kind: "notify_parent"; tries: number }
  /** Free the object's storage: the execution ended and Postgres holds everything. */
  | { kind: "retire" }
  /** Check that the open streams' viewers may still watch. */
  | { kind: "viewers" };

export type TimerKind = Timer["kind"];
export type TimerOf<K extends TimerKind> = Extract<Timer, { kind: K }>;

/** One timer of each kind per step (or per execution for execution-wide kinds). */
export function timerKey(timer: Timer): string {
  return "stepId" in timer ? `${timer.kind}:${timer.stepId}` : timer.kind;
}

export interface ScheduledTimer {
  timer: Timer;
  due: number;
  /** Firings of this timer whose handler failed in a row (each re-arms it with a longer backoff). */
  failures: number;
}

/** After a failed handler the timer fires again after 1 s, doubling to 5 minutes. */
export function timerBackoffMs(failures: number): number {
  return Math.min(1000 * 2 ** Math.max(0, failures - 1), 5 * 60_000);
}
