/**
 * The steps queue consumer: each message is one delivery of a step attempt (see step-attempt.ts
 * for the claim, lease and report protocol). Delivery is at least once; what the attempt's run
 * decides becomes the message's ack or retry.
 */
import { settings } from "../config";
import { executionStub } from "../durable-objects/execution/stub";
import type { Bindings } from "../env";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import { StepMessageSchema } from "../queues/messages";
import { runDelivery } from "../queues/step-attempt";
import { startChildExecution } from "../services/child-start";

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
  const disposition = await runDelivery({
    message: parsed.data,
    deliveries: message.attempts,
    env,
    claim: () => executionStub(env, executionId).claimStep(stepId, attempt, idempotencyKey),
    host: () => executionStub(env, executionId),
    faults: settings(env).FAULT_INJECTION,
    startChild: (request) => startChildExecution(env, request),
  });
  if (disposition.kind === "done") message.ack();
  else message.retry({ delaySeconds: disposition.delaySeconds });
}
