/** The steps dead-letter queue: each message fails its step with `dead_lettered` (docs/engine.md). */
import { executionStub } from "../durable-objects/execution/stub";
import type { Bindings } from "../env";
import { logEvent } from "../observability/log";
import { StepMessageSchema } from "../queues/messages";

export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  for (const message of batch.messages) {
    const parsed = StepMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      logEvent("error", "dead_letter_malformed", { messageId: message.id });
      message.ack();
      continue;
    }
    const { executionId, stepId, attempt, idempotencyKey } = parsed.data;
    const failed = await executionStub(env, executionId).deadLetter(stepId, attempt, idempotencyKey);
    logEvent("warn", "step_dead_lettered", { executionId, stepId, attempt, failedStep: failed });
    message.ack();
  }
}
