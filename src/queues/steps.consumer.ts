/**
 * The steps queue consumer. Delivery is at least once: the execution's object decides whether an
 * attempt still needs running (claim) and grants a lease the consumer renews with heartbeats, so
 * no two consumers run one attempt at once. Once a step has run, its result is reported until
 * the object takes it; if the object stays out of reach, the result is stashed in R2 and the next
 * claim of that attempt reports it instead of running the step again.
 */
import { settings } from "../config";
import { readOffloaded } from "../durable-objects/execution/large-values";
import { LEASE_MS } from "../durable-objects/execution/queued-steps";
import type { ClaimResult, ReportResult, StepTask } from "../durable-objects/execution/types";
import { executionStub } from "../durable-objects/execution-stub";
import { type QueuedStepType, stepKind } from "../engine/definition";
import type { Bindings } from "../env";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import type { QueuedKind, RunResult } from "../steps/kind";
import { type Faults, InjectedFault } from "./faults";
import { StepMessageSchema } from "./messages";
import { discardStash, mayHaveStash, readStash, stash } from "./result-stash";
import { TokenRelay } from "./token-relay";

/** Report tries after a step ran (about 16 s in all) before the result is stashed. */
const REPORT_RETRY_MS = [0, 200, 500, 1_000, 2_000, 4_000, 8_000];

type Stub = ReturnType<typeof executionStub>;

export async function consumeSteps(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  // Messages of one batch run concurrently, and each on its own: a slow step must not hold up its
  // neighbours, and one that throws must not end the invocation under them (the runtime would
  // cancel their work mid-step). A message that threw is neither acked nor retried explicitly, so
  // the queue delivers it again.
  const outcomes = await Promise.allSettled(batch.messages.map((message) => handle(message, env)));
  outcomes.forEach((outcome, index) => {
    if (outcome.status === "rejected")
      logEvent("error", "step_consumer_died", {
        messageId: batch.messages[index].id,
        ...describeError(outcome.reason),
      });
  });
}

async function handle(message: Message<unknown>, env: Bindings): Promise<void> {
  const parsed = StepMessageSchema.safeParse(message.body);
  if (!parsed.success) {
    logEvent("error", "step_message_malformed", { messageId: message.id });
    message.ack();
    return;
  }
  const { executionId, stepId, attempt, idempotencyKey } = parsed.data;
  const stub = () => executionStub(env, executionId);
  let claim: ClaimResult;
  try {
    // The RPC stub's inferred type drops `unknown` fields; the object returns exactly a ClaimResult.
    claim = (await stub().claimStep(stepId, attempt, idempotencyKey)) as ClaimResult;
  } catch (error) {
    logEvent("warn", "step_claim_failed", { executionId, stepId, attempt, ...describeError(error) });
    message.retry({ delaySeconds: Math.min(2 ** message.attempts, 60) });
    return;
  }
  if (claim.kind === "busy") return message.retry({ delaySeconds: claim.retryAfterSeconds });
  if (claim.kind === "stale") return message.ack();

  const { task } = claim;
  const faults = settings(env).FAULT_INJECTION;
  // A consumer before us ran this step but could not report: report its result instead.
  const earlier = mayHaveStash(task) ? await readStash(env.STORAGE, task) : null;
  let result: RunResult;
  if (earlier) {
    result = earlier;
  } else {
    try {
      result = await runLeased(task, env, stub);
    } catch (error) {
      if (error instanceof LeaseLost) return message.ack();
      // Our own failure (not the step's): let the queue deliver it again, then dead-letter it.
      logEvent("error", "step_message_failed", {
        executionId,
        stepId,
        attempt,
        deliveries: message.attempts,
        ...describeError(error),
      });
      await stub()
        .releaseClaim(stepId, attempt, task.lease)
        .catch(() => {});
      message.retry({ delaySeconds: Math.min(2 ** message.attempts, 60) });
      return;
    }
    if (Math.random() < faults.crashAfterRunRate) throw new InjectedFault("consumer died after the step ran");
  }
  if (await reportDurably(env, task, result, faults)) {
    if (earlier) await discardStash(env.STORAGE, task);
    message.ack();
  } else {
    // Stashed: the lease runs out, and the next claim of this attempt reports the stashed result.
    message.retry({ delaySeconds: Math.ceil(LEASE_MS / 1000) + 1 });
  }
}

class LeaseLost extends Error {}

/** Runs the attempt under its lease: heartbeats renew it, and the run stops at the deadline or when it is lost. */
async function runLeased(task: StepTask, env: Bindings, stub: () => Stub): Promise<RunResult> {
  const controller = new AbortController();
  const deadline = setTimeout(
    () => controller.abort(new DOMException("deadline", "TimeoutError")),
    Math.max(0, task.deadline - Date.now()),
  );
  let lost = false;
  const loseLease = () => {
    lost = true;
    controller.abort(new LeaseLost("the lease was taken over"));
  };
  const heartbeat = setInterval(() => {
    stub()
      .heartbeat(task.stepId, task.attempt, task.lease)
      .then((answer) => {
        if (!(answer as ReportResult).accepted) loseLease();
      })
      .catch(() => {});
  }, LEASE_MS / 3);
  const tokens = new TokenRelay(task.streamedChars ?? 0, (offset, text) =>
    stub().publishTokens(task.stepId, task.attempt, offset, text),
  );
  try {
    const input = task.inputRef ? await readOffloaded(env.STORAGE, task.inputRef) : task.input;
    const kind = stepKind(task.type as QueuedStepType) as QueuedKind<never>;
    const result = await kind.run(task, input, {
      env,
      signal: controller.signal,
      onToken: (text) => tokens.push(text),
      checkpoint: async (state) => {
        // The answer's text reaches the object before the checkpoint that commits it.
        await tokens.flush();
        const answer = (await stub().checkpoint(task.stepId, task.attempt, task.lease, state)) as ReportResult;
        if (!answer.accepted) loseLease();
        return answer.accepted;
      },
    });
    await tokens.flush();
    if (lost) throw new LeaseLost("the lease was taken over");
    return result;
  } catch (error) {
    if (lost) throw new LeaseLost("the lease was taken over");
    throw error;
  } finally {
    clearTimeout(deadline);
    clearInterval(heartbeat);
  }
}

/**
 * Reports a result until the object takes it (or says it is stale). The step has run, so a
 * failure here must never make it run again: after the last try the result is stashed in R2.
 * Returns false when it was stashed instead of reported.
 */
async function reportDurably(env: Bindings, task: StepTask, result: RunResult, faults: Faults): Promise<boolean> {
  for (const [index, delay] of REPORT_RETRY_MS.entries()) {
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
    try {
      const injected = (!mayHaveStash(task) && index < faults.failReports) || Math.random() < faults.reportFailureRate;
      if (injected) throw new InjectedFault("report failed");
      // A fresh stub each try: a broken stub stays broken.
      const stub = executionStub(env, task.executionId);
      const answer = (
        "suspension" in result
          ? await stub.suspendStep(task.stepId, task.attempt, task.lease, result.suspension)
          : await stub.completeStep(task.stepId, task.attempt, task.lease, result.outcome)
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
  await stash(env.STORAGE, task, result);
  return false;
}
