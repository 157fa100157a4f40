/**
 * One delivery of a queued step attempt, wherever it runs: the steps consumer for a queue message,
 * or the execution's object for a first attempt it runs itself. Either way the object decides
 * whether the attempt still needs running (claim) and grants a lease that heartbeats renew, so no
 * two runners run one attempt at once. Once a step has run, its result is reported until the
 * object takes it; if the object stays out of reach, the result is stashed in R2 and the next
 * claim of that attempt reports it instead of running the step again.
 */

import type { AgentState } from "../agents/state";
import type { Faults } from "../config";
import type { QueuedStepType } from "../engine/vocabulary";
import type { Bindings } from "../env";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import { stepKind } from "../steps/definition";
import {
  AttemptHandedBack,
  type QueuedKind,
  type RunContext,
  type RunResult,
  type StepSuspension,
} from "../steps/kind";
import { readOffloaded } from "../steps/large-values";
import type { ClaimResult, ReportResult, StepOutcome, StepTask } from "../steps/task";
import { InjectedFault } from "./faults";
import type { StepMessage } from "./messages";
import { discardStash, mayHaveStash, readStash, stash } from "./result-stash";
import { TokenRelay } from "./token-relay";

/** Report tries after a step ran (about 16 s in all) before the result is stashed. */
const REPORT_RETRY_MS = [0, 200, 500, 1_000, 2_000, 4_000, 8_000];

/**
 * The execution's object as an attempt's runner sees it: its RPC stub from the consumer, the
 * object itself when it runs the attempt. Answers are typed loosely because an RPC stub's
 * inferred types drop `unknown` fields; the object returns exactly the types named beside each.
 */
export interface AttemptHost {
  /** → ReportResult, as are the rest */
  heartbeat(stepId: string, attempt: number, lease: string): Promise<unknown>;
  checkpoint(stepId: string, attempt: number, lease: string, state: AgentState): Promise<unknown>;
  completeStep(stepId: string, attempt: number, lease: string, outcome: StepOutcome): Promise<unknown>;
  suspendStep(stepId: string, attempt: number, lease: string, suspension: StepSuspension): Promise<unknown>;
  /** With `handedBack`, the object sends the attempt again itself, backing off (AttemptHandedBack). */
  releaseClaim(stepId: string, attempt: number, lease: string, handedBack?: boolean): Promise<unknown>;
  publishTokens(stepId: string, attempt: number, offset: number, text: string): Promise<void>;
}

/** What becomes of the delivery: done with, or to be delivered again (after `delaySeconds`). */
export type Disposition = { kind: "done" } | { kind: "again"; delaySeconds: number };

export interface Delivery {
  message: StepMessage;
  /** How many times this message has been delivered, this time included. */
  deliveries: number;
  env: Bindings;
  /** Asks the object for the attempt (→ ClaimResult). */
  claim(): Promise<unknown>;
  /** A fresh handle each call: a broken RPC stub stays broken. */
  host: () => AttemptHost;
  faults: Faults;
  /** Starts a step's child execution (services/child-start.ts, wired in by the caller). */
  startChild: RunContext["startChild"];
}

const DONE: Disposition = { kind: "done" };

export async function runDelivery({
  message,
  deliveries,
  env,
  claim: ask,
  host,
  faults,
  startChild,
}: Delivery): Promise<Disposition> {
  const { executionId, stepId, attempt } = message;
  const backoff: Disposition = { kind: "again", delaySeconds: Math.min(2 ** deliveries, 60) };
  let claim: ClaimResult;
  try {
    claim = (await ask()) as ClaimResult;
  } catch (error) {
    logEvent("warn", "step_claim_failed", { executionId, stepId, attempt, ...describeError(error) });
    return backoff;
  }
  if (claim.kind === "busy") return { kind: "again", delaySeconds: claim.retryAfterSeconds };
  if (claim.kind === "stale") return DONE;

  const { task } = claim;
  // The lease is held, heartbeats renewing it, until the result is reported or stashed.
  const held = new HeldLease(task, host);
  try {
    // A runner before us ran this step but could not report: report its result instead.
    const earlier = mayHaveStash(task) ? await readStash(env.STORAGE, task) : null;
    let result: RunResult;
    if (earlier) {
      result = earlier;
    } else {
      try {
        result = await runLeased(task, { env, host, startChild }, held);
      } catch (error) {
        if (held.lost) return DONE;
        if (error instanceof AttemptHandedBack) {
          logEvent("warn", "step_handed_back", { executionId, stepId, attempt, ...describeError(error) });
          held.stop();
          await host()
            .releaseClaim(stepId, attempt, task.lease, true)
            .catch(() => {});
          return DONE;
        }
        // Our own failure (not the step's): deliver it again, until the queue dead-letters it.
        logEvent("error", "step_message_failed", { executionId, stepId, attempt, deliveries, ...describeError(error) });
        held.stop();
        await host()
          .releaseClaim(stepId, attempt, task.lease)
          .catch(() => {});
        return backoff;
      }
      if (Math.random() < faults.crashAfterRunRate) throw new InjectedFault("the runner died after the step ran");
    }
    if (await reportDurably(task, result, host, faults)) {
      if (earlier) await discardStash(env.STORAGE, task);
      return DONE;
    }
    await stash(env.STORAGE, task, result);
  } finally {
    held.stop();
  }
  // Stashed: the lease runs out, and the next claim of this attempt reports the stashed result.
  return { kind: "again", delaySeconds: Math.ceil(task.leaseMs / 1000) + 1 };
}

/** A claimed attempt's lease, renewed every third of its length; `signal` aborts once it is lost. */
class HeldLease {
  lost = false;
  private readonly controller = new AbortController();
  private readonly renewal: ReturnType<typeof setInterval>;

  constructor(task: StepTask, host: () => AttemptHost) {
    this.renewal = setInterval(() => {
      host()
        .heartbeat(task.stepId, task.attempt, task.lease)
        .then((answer) => {
          if (!(answer as ReportResult).accepted) this.lose();
        })
        .catch(() => {});
    }, task.leaseMs / 3);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  lose(): void {
    this.lost = true;
    this.controller.abort(new DOMException("the lease was taken over", "AbortError"));
  }

  stop(): void {
    clearInterval(this.renewal);
  }
}

/** Runs the attempt under its lease; the run stops at the deadline or when the lease is lost. */
async function runLeased(
  task: StepTask,
  { env, host, startChild }: Pick<Delivery, "env" | "host" | "startChild">,
  held: HeldLease,
): Promise<RunResult> {
  const controller = new AbortController();
  const deadline = setTimeout(
    () => controller.abort(new DOMException("deadline", "TimeoutError")),
    Math.max(0, task.deadline - Date.now()),
  );
  const tokens = new TokenRelay(task.streamedChars ?? 0, (offset, text) =>
    host().publishTokens(task.stepId, task.attempt, offset, text),
  );
  try {
    const input = task.inputRef ? await readOffloaded(env.STORAGE, task.inputRef) : task.input;
    const kind = stepKind(task.type as QueuedStepType) as QueuedKind<never>;
    const result = await kind.run(task, input, {
      env,
      signal: AbortSignal.any([controller.signal, held.signal]),
      onToken: (text) => tokens.push(text),
      startChild,
      checkpoint: async (state) => {
        // The answer's text reaches the object before the checkpoint that commits it.
        await tokens.flush();
        const answer = (await host().checkpoint(task.stepId, task.attempt, task.lease, state)) as ReportResult;
        if (!answer.accepted) held.lose();
        return answer.accepted;
      },
    });
    await tokens.flush();
    if (held.lost) throw new DOMException("the lease was taken over", "AbortError");
    return result;
  } finally {
    clearTimeout(deadline);
  }
}

/**
 * Reports a result until the object takes it (or says it is stale). The step has run, so a
 * failure here must never make it run again: false after the last try, for the caller to stash.
 */
async function reportDurably(
  task: StepTask,
  result: RunResult,
  host: () => AttemptHost,
  faults: Faults,
): Promise<boolean> {
  for (const [index, delay] of REPORT_RETRY_MS.entries()) {
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
    try {
      const injected = (!mayHaveStash(task) && index < faults.failReports) || Math.random() < faults.reportFailureRate;
      if (injected) throw new InjectedFault("report failed");
      const answer = (
        "suspension" in result
          ? await host().suspendStep(task.stepId, task.attempt, task.lease, result.suspension)
          : await host().completeStep(task.stepId, task.attempt, task.lease, result.outcome)
      ) as ReportResult;
      if (!answer.accepted)
        logEvent("info", "step_report_refused", {
          executionId: task.executionId,
          stepId: task.stepId,
          reason: answer.reason,
        });
      return true;
    } catch (error) {
      logEvent("warn", "step_report_failed", {
        executionId: task.executionId,
        stepId: task.stepId,
        try: index + 1,
        ...describeError(error),
      });
    }
  }
  return false;
}
