/**
 * The jobs dead-letter queue: a job (backup, verification, retention, archival, drill) that failed
 * every delivery lands here. Nothing retries it (the next cron slot schedules its kind again); it
 * is logged and counted, so `ipa_jobs_dead_lettered_total` and its alert tell the operator, and
 * the row it was working on (a backup, a drill, a bulk job) is failed rather than left running
 * (abandon-job.ts).
 */
import { settings } from "../config";
import { openPlatformDatabase } from "../db/client";
import { addEngineCounts } from "../db/engine-counters";
import type { Bindings } from "../env";
import { logEvent } from "../observability/log";
import { JobMessageSchema } from "../queues/messages";
import { abandonJob } from "./abandon-job";

export async function consumeDeadJobs(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  const counts: Record<string, number> = {};
  const session = openPlatformDatabase(settings(env));
  try {
    for (const message of batch.messages) {
      const parsed = JobMessageSchema.safeParse(message.body);
      const job = parsed.success ? parsed.data.type : "malformed";
      counts[job] = (counts[job] ?? 0) + 1;
      const reason = `dead-lettered after ${message.attempts} deliveries`;
      const failed = parsed.success && (await abandonJob(session.db, parsed.data, reason));
      logEvent("error", "job_dead_lettered", { job, messageId: message.id, deliveries: message.attempts, failed });
    }
    await addEngineCounts(session.db, "job_dead_lettered", counts);
    batch.ackAll();
  } finally {
    await session.close();
  }
}
