/**
 * What a dead-lettered job leaves behind: a row that says it is still pending or running would
 * stay so for ever, so each kind's row is failed with the reason. Kinds whose cron schedules the
 * work again (verification, replica copies, retention, log archival, start gates) have no such row.
 */
import { failUnfinished } from "../backup/catalog";
import { abandonDrill } from "../backup/drill";
import { auditBackup } from "../backup/run-backup";
import type { Database } from "../db/client";
import { exhaustive } from "../engine/vocabulary";
import type { JobMessage } from "../queues/messages";
import { failBulkJob } from "../services/bulk-actions";

/** Answers whether a row was failed. */
export async function abandonJob(db: Database, job: JobMessage, reason: string): Promise<boolean> {
  switch (job.type) {
    case "backup": {
      if (!(await failUnfinished(db, job.backupId, reason))) return false;
      await auditBackup({ db }, "backup.fail", job.backupId, { reason });
      return true;
    }
    case "drill":
      return abandonDrill(db, job.drillId, reason);
    case "bulk":
      return failBulkJob(db, job.bulkJobId);
    case "verify":
    case "replicate":
    case "retention":
    case "archive-logs":
    // A start gate's lost admission is the cron's sweep's (start-gates.ts).
    case "admit":
    case "notify":
      return false;
    default:
      return exhaustive(job);
  }
}
