/** Sends a job (backup, verification, maintenance, drill) to the jobs queue. */
import type { Bindings } from "../env";
import type { JobMessage } from "./messages";

export async function enqueueJob(env: Bindings, job: JobMessage): Promise<void> {
  await env.JOBS_QUEUE.send(job, { contentType: "json" });
}
