/** The Worker's queue handler: one consumer per queue, chosen by the batch's queue name. */
import type { Bindings } from "../env";
import { logEvent } from "../observability/log";
import { consumeDeadJobs } from "./dead-jobs";
import { consumeDeadLetters } from "./dead-letter";
import { consumeJobs } from "./jobs";
import { consumeSteps } from "./steps";

export async function handleQueue(batch: MessageBatch<unknown>, env: Bindings, ctx: ExecutionContext): Promise<void> {
  if (batch.queue.startsWith("ipa-steps-dlq")) return consumeDeadLetters(batch, env);
  if (batch.queue.startsWith("ipa-steps")) return consumeSteps(batch, env);
  if (batch.queue.startsWith("ipa-jobs-dlq")) return consumeDeadJobs(batch, env);
  if (batch.queue.startsWith("ipa-jobs")) return consumeJobs(batch, env);
  logEvent("error", "unknown_queue", { queue: batch.queue, messages: batch.messages.length });
  void ctx;
  batch.retryAll();
}
