/** Sends a job (backup, verification, maintenance, drill) to the jobs queue. */
import type { Bindings } from "../env";
import type { JobMessage } from "./messages";

/** `delayMs` holds the message back (rounded up to whole seconds, as the queue counts them). */
export async function enqueueJob(env: Bindings, job: JobMessage, delayMs = 0): Promise<void> {
  const delaySeconds = Math.ceil(Math.max(0, delayMs) / 1000);
  await env.JOBS_QUEUE.send(job, { contentType: "json", ...(delaySeconds ? { delaySeconds } : {}) });
}
