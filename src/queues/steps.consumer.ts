/**
 * The steps queue consumer. Delivery is at least once: the execution's Durable Object decides
 * whether this attempt still needs running (claim), and accepts one result per attempt. A second
 * delivery of a message whose attempt is in progress waits for the first consumer's lease.
 */
import type { ClaimResult } from "../durable-objects/execution/types";
import { executionStub } from "../durable-objects/execution-stub";
import type { Bindings } from "../env";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import { runStep } from "../steps/run-step";
import { StepMessageSchema } from "./messages";
import { TokenRelay } from "./token-relay";

export async function consumeSteps(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  // Messages of one batch run concurrently: a slow step must not hold up its neighbours.
  await Promise.all(batch.messages.map((message) => handle(message, env)));
}

async function handle(message: Message<unknown>, env: Bindings): Promise<void> {
  const parsed = StepMessageSchema.safeParse(message.body);
  if (!parsed.success) {
    logEvent("error", "step_message_malformed", { messageId: message.id });
    message.ack();
    return;
  }
  const { executionId, stepId, attempt } = parsed.data;
  const execution = executionStub(env, executionId);
  try {
    // The RPC stub's inferred type drops `unknown` fields; the object returns exactly a ClaimResult.
    const claim = (await execution.claimStep(stepId, attempt)) as ClaimResult;
    if (claim.kind !== "run") {
      if (claim.kind === "busy") message.retry({ delaySeconds: claim.retryAfterSeconds });
      else message.ack();
      return;
    }
    const tokens = new TokenRelay((text) => executionStub(env, executionId).publishTokens(stepId, attempt, text));
    const result = await runStep(claim.task, env, (text) => tokens.push(text));
    await tokens.flush();
    if ("suspension" in result) {
      await report(env, executionId, (stub) => stub.suspendStep(stepId, attempt, result.suspension));
    } else {
      await report(env, executionId, (stub) => stub.completeStep(stepId, attempt, result.outcome));
    }
    message.ack();
  } catch (error) {
    // Our own failure (not the step's): let the queue deliver it again, then dead-letter it.
    logEvent("error", "step_message_failed", {
      executionId,
      stepId,
      attempt,
      deliveries: message.attempts,
      ...describeError(error),
    });
    await executionStub(env, executionId)
      .releaseClaim(stepId, attempt)
      .catch(() => {});
    message.retry({ delaySeconds: Math.min(2 ** message.attempts, 60) });
  }
}

/** Report delays: the step has run, so a brief outage of its object must not make it run again. */
const REPORT_RETRY_MS = [100, 500, 2_000];

type ExecutionStub = ReturnType<typeof executionStub>;

/** Calls the execution's object, on a fresh stub for each try (a broken stub stays broken). */
async function report<T>(env: Bindings, executionId: string, call: (stub: ExecutionStub) => Promise<T>): Promise<T> {
  for (const delay of REPORT_RETRY_MS) {
    try {
      return await call(executionStub(env, executionId));
    } catch {
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  return call(executionStub(env, executionId));
}
