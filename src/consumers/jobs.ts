/** The jobs queue consumer: backups, their replica copies and verification, retention, log archival, drills, bulk actions and start gates. */

import { runDrill } from "../backup/drill";
import { replicateBackup } from "../backup/replica";
import { applyRetention } from "../backup/retention";
import { BackupBusyError, type BackupContext, BackupNotPossibleError, runBackup } from "../backup/run-backup";
import { verifyBackup } from "../backup/verify";
import { settings } from "../config";
import { openPlatformDatabase } from "../db/client";
import { finishSlot } from "../db/job-runs";
import { exhaustive } from "../engine/vocabulary";
import type { Bindings } from "../env";
import { archiveLogs } from "../logs/archive";
import { deliverDue } from "../notifications/deliver";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import { enqueueJob } from "../queues/enqueue-job";
import { type JobMessage, JobMessageSchema } from "../queues/messages";
import { runBulkJob } from "../services/bulk-actions";
import { removeExpiredExecutions } from "../services/execution-retention";
import { admitAtGate, wakeGate } from "../services/start-gates";

/** Jobs whose failures notify the platform's channels (their notices are recorded as they fail). */
const REPORTS_FAILURES = new Set<JobMessage["type"]>(["backup", "verify", "drill"]);

/** How long a backup waits when another holds the lock. */
const BUSY_RETRY_SECONDS = 60;

export async function consumeJobs(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  for (const message of batch.messages) {
    const parsed = JobMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      logEvent("error", "job_message_malformed", { messageId: message.id });
      message.ack();
      continue;
    }
    try {
      await runJob(parsed.data, env);
      message.ack();
    } catch (error) {
      if (error instanceof BackupBusyError) {
        message.retry({ delaySeconds: BUSY_RETRY_SECONDS });
      } else if (error instanceof BackupNotPossibleError) {
        logEvent("warn", "job_not_possible", { job: parsed.data.type, reason: error.message });
        message.ack();
      } else {
        logEvent("error", "job_failed", {
          job: parsed.data.type,
          deliveries: message.attempts,
          ...describeError(error),
        });
        message.retry({ delaySeconds: Math.min(30 * 2 ** message.attempts, 600) });
      }
    }
    // A backup, verification or drill that failed recorded its notices as it failed: send them now.
    if (REPORTS_FAILURES.has(parsed.data.type)) await enqueueJob(env, { type: "notify" }).catch(() => {});
  }
}

export async function runJob(
  job: JobMessage,
  env: Bindings,
  options: Parameters<typeof verifyBackup>[2] = {},
): Promise<unknown> {
  const config = settings(env);
  const session = openPlatformDatabase(config);
  const context: BackupContext = { config, db: session.db, bucket: env.STORAGE, replica: env.STORAGE_REPLICA };
  try {
    switch (job.type) {
      case "backup": {
        const backup = await runBackup(context, job.backupId);
        // Copied at once; what fails here the cron retries (replica.ts).
        if (backup && env.STORAGE_REPLICA)
          await replicateBackup(session.db, env.STORAGE, env.STORAGE_REPLICA, backup.id);
        return backup;
      }
      case "replicate":
        return env.STORAGE_REPLICA
          ? await replicateBackup(session.db, env.STORAGE, env.STORAGE_REPLICA, job.backupId)
          : null;
      case "verify":
        return await verifyBackup(context, job.backupId, { ...options, mode: job.mode });
      case "retention": {
        const backups = await applyRetention(
          session.db,
          env.STORAGE_REPLICA ? [env.STORAGE, env.STORAGE_REPLICA] : [env.STORAGE],
          config,
        );
        // Executions of workflows with retentionDays (execution-retention.ts).
        const outcome = { ...backups, executions: await removeExpiredExecutions(session.db, env.STORAGE) };
        await finishSlot(session.db, "retention", new Date(job.slot), outcome);
        return outcome;
      }
      case "archive-logs": {
        const outcome = await archiveLogs(session.db, env.STORAGE, config.LOG_ARCHIVE_AFTER_DAYS);
        await finishSlot(session.db, "archive-logs", new Date(job.slot), outcome);
        return outcome;
      }
      case "drill":
        return await runDrill(context, job.drillId);
      case "bulk": {
        // A long job goes on in the next delivery, so none outlasts the consumer's wall time.
        const more = await runBulkJob(session.db, env, job.bulkJobId);
        if (more) await enqueueJob(env, job);
        return more;
      }
      case "admit": {
        // The gate's next opening, if something still waits there.
        const { wakeInMs } = await admitAtGate(session.db, env, job.workflowId, job.gate, job.key);
        if (wakeInMs !== null) await wakeGate(env, job, wakeInMs);
        return wakeInMs;
      }
      case "notify": {
        const outcome = await deliverDue(session.db, config);
        // The retries this run scheduled are its to send; other waits the cron's minute covers.
        if (outcome.failed > 0 && outcome.nextInMs !== null) await enqueueJob(env, job, outcome.nextInMs);
        return outcome;
      }
      default:
        return exhaustive(job);
    }
  } finally {
    await session.close();
  }
}
