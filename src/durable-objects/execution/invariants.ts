/**
 * The engine's invariants over one execution's object, checked by the watchdog on each visit:
 * every wait has the timer that ends it, every claimed attempt its lease and timeout timers, every
 * dispatched attempt its re-send timer, a limited execution its deadline, an unflushed outbox its
 * flush, an ended execution its retirement. What is missing is named here; the machine puts it back.
 */
import { CHILDREN_CHECK_MS } from "./clocks";
import type { ScheduledTimer, Timer } from "./timers";
import { timerKey } from "./timers";
import type { ExecutionRecord, StepState } from "./types";

/** What a repair restores; the label of `ipa_invariant_repairs_total`. */
export type InvariantKind =
  | "wait_timer"
  | "lease_timer"
  | "step_timeout_timer"
  | "dispatch_timer"
  | "execution_timeout_timer"
  | "flush_timer"
  | "retire_timer";

/** Repairs the cron makes from Postgres: a start never handed to its object, a queued start a lost release left waiting. */
export type RepairKind = InvariantKind | "stranded_start" | "queued_admission";

export interface MissingTimer {
  kind: InvariantKind;
  timer: Timer;
  due: number;
}

export interface InvariantInput {
  record: ExecutionRecord;
  steps: StepState[];
  timers: ScheduledTimer[];
  unflushed: boolean;
  now: number;
  /** How long an attempt of the step may run (its timeout), for a lost step timeout timer. */
  timeoutMsOf(stepId: string): number;
  retireAfterMs: number;
}

export function missingTimers(input: InvariantInput): MissingTimer[] {
  const { record, now } = input;
  const have = new Set(input.timers.map((scheduled) => timerKey(scheduled.timer)));
  const missing: MissingTimer[] = [];
  const need = (kind: InvariantKind, timer: Timer, due: number) => {
    if (!have.has(timerKey(timer))) missing.push({ kind, timer, due: Math.max(due, now) });
  };
  const ended = record.status === "completed" || record.status === "failed" || record.status === "cancelled";
  if (input.unflushed) need("flush_timer", { kind: "flush" }, now);
  if (ended) {
    if (!input.unflushed)
      need("retire_timer", { kind: "retire" }, Date.parse(record.completedAt ?? "") + input.retireAfterMs || now);
    return missing;
  }
  const seconds = record.definition.timeoutSeconds;
  if (seconds && record.status !== "queued" && record.status !== "compensating")
    need(
      "execution_timeout_timer",
      { kind: "execution_timeout" },
      Date.parse(record.startedAt ?? "") + seconds * 1000 || now,
    );
  for (const step of input.steps) {
    const { stepId, attempt } = step;
    if (step.status === "waiting") {
      const wait = waitTimerOf(step, now);
      if (wait) need("wait_timer", wait.timer, wait.due);
    }
    if (step.status !== "running") continue;
    if (step.lease) {
      need("lease_timer", { kind: "lease", stepId, attempt }, step.lease.until);
      need("step_timeout_timer", { kind: "step_timeout", stepId, attempt }, now + input.timeoutMsOf(stepId));
    } else if (step.dispatch && step.idempotencyKey) {
      need("dispatch_timer", { kind: "dispatch", stepId, attempt }, now);
    }
  }
  return missing;
}

/** The timer that ends a waiting step's wait, and when it is due; null for a wait only a person ends. */
function waitTimerOf(step: StepState, now: number): { timer: Timer; due: number } | null {
  const { stepId, attempt, waiting } = step;
  if (!waiting) return null;
  switch (waiting.reason) {
    case "retry":
      return { timer: { kind: "retry", stepId, attempt }, due: Date.parse(waiting.nextAttemptAt) };
    case "delay":
      return { timer: { kind: "wait", stepId, attempt }, due: Date.parse(waiting.until) };
    case "approval":
    case "event":
      return waiting.expiresAt
        ? { timer: { kind: "wait", stepId, attempt }, due: Date.parse(waiting.expiresAt) }
        : null;
    case "children":
      return { timer: { kind: "children", stepId, attempt }, due: now + CHILDREN_CHECK_MS };
    case "budget":
      return null;
  }
}
