/**
 * The Worker's one cron trigger (`* * * * *`, docs/operations.md) dispatches every periodic job by the
 * scheduled minute. Jobs are idempotent per slot, so a minute fired twice does no harm.
 */

import { linkAuditChain } from "../audit/sequencer";
import { type Settings, settings } from "../config";
import { type Database, openPlatformDatabase } from "../db/client";
import { createPartitionsAhead } from "../db/partitions";
import type { Bindings } from "../env";
import { deliverDue } from "../notifications/deliver";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import { admitAllQueued } from "../services/admission";
import { expireQueued } from "../services/queue-expiry";
import { sweepGates } from "../services/start-gates";
import {
  isBackupSlot,
  scheduleBackups,
  scheduleChainRestore,
  scheduleDrill,
  scheduleMaintenance,
  scheduleReplication,
  scheduleVerification,
} from "./backups";
import { runCleanup } from "./cleanup";
import { reencryptAll } from "./reencrypt";
import { runSchedules } from "./schedules";
import { runWatchdog } from "./watchdog";

interface Job {
  name: string;
  due(slot: Date, config: Settings): boolean;
  run(context: JobContext): Promise<unknown>;
}

export interface JobContext {
  env: Bindings;
  db: Database;
  slot: Date;
}

const everyMinute = () => true;
const hourlyAt = (minute: number) => (slot: Date) => slot.getUTCMinutes() === minute;
const dailyAt = (hour: number, minute: number) => (slot: Date) =>
  slot.getUTCHours() === hour && slot.getUTCMinutes() === minute;
const everyFiveMinutes = (offset: number) => (slot: Date) => slot.getUTCMinutes() % 5 === offset;
const weeklyAt = (weekday: number, hour: number, minute: number) => (slot: Date) =>
  slot.getUTCDay() === weekday && dailyAt(hour, minute)(slot);

export const JOBS: Job[] = [
  { name: "schedules", due: everyMinute, run: ({ db, env, slot }) => runSchedules(db, env, slot) },
  { name: "watchdog", due: everyMinute, run: ({ db, env }) => runWatchdog(db, env) },
  // Links what writers appended to the audit trail since the last reader did (sequencer.ts).
  { name: "audit-chain", due: everyMinute, run: ({ db }) => linkAuditChain(db) },
  // Queued executions whose release a crash lost (admission.ts), and debounced or throttled
  // starts whose admission message was lost (start-gates.ts).
  { name: "admission", due: everyMinute, run: ({ db, env }) => admitAllQueued(db, env) },
  { name: "start-gates", due: everyMinute, run: ({ db, env }) => sweepGates(db, env) },
  // Notification deliveries due (a retry, or one whose poke was lost: notifications/deliver.ts).
  { name: "notifications", due: everyMinute, run: ({ db, env }) => deliverDue(db, settings(env)) },
  // Queued executions past the workflow's queueTtlSeconds end as `expired` (queue-expiry.ts).
  { name: "queue-expiry", due: everyMinute, run: ({ db, env }) => expireQueued(db, env) },
  { name: "cleanup", due: hourlyAt(7), run: ({ db }) => runCleanup(db) },
  // Next months' log and audit partitions, long before a write needs them (src/db/partitions.ts).
  { name: "partitions", due: hourlyAt(17), run: ({ db, slot }) => createPartitionsAhead(db, slot) },
  { name: "reencrypt", due: dailyAt(5, 0), run: ({ db, env }) => reencryptAll(db, settings(env)) },
  {
    name: "backups",
    due: (slot, config) => isBackupSlot(slot, config.BACKUP_INCREMENTAL_MINUTES),
    run: ({ db, env, slot }) => scheduleBackups(db, env, slot),
  },
  { name: "replication", due: everyMinute, run: ({ db, env }) => scheduleReplication(db, env) },
  { name: "verification", due: everyFiveMinutes(2), run: ({ db, env, slot }) => scheduleVerification(db, env, slot) },
  { name: "chain-restore", due: dailyAt(3, 0), run: ({ db, env, slot }) => scheduleChainRestore(db, env, slot) },
  // Sundays at 05:30 UTC, between the night's backups and the Monday morning that would need them.
  { name: "drill", due: weeklyAt(0, 5, 30), run: ({ db, env, slot }) => scheduleDrill(db, env, slot) },
  {
    name: "retention",
    due: dailyAt(4, 0),
    run: ({ db, env, slot }) => scheduleMaintenance(db, env, slot, "retention"),
  },
  {
    name: "log-archival",
    due: dailyAt(4, 30),
    run: ({ db, env, slot }) => scheduleMaintenance(db, env, slot, "archive-logs"),
  },
];

export async function handleScheduled(
  controller: ScheduledController,
  env: Bindings,
  ctx: ExecutionContext,
): Promise<void> {
  const slot = new Date(Math.floor(controller.scheduledTime / 60_000) * 60_000);
  const config = settings(env);
  const session = openPlatformDatabase(config);
  try {
    // Jobs run side by side; one failing does not hold up the others.
    await Promise.all(
      JOBS.filter((job) => job.due(slot, config)).map(async (job) => {
        try {
          await job.run({ env, db: session.db, slot });
        } catch (error) {
          logEvent("error", "cron_job_failed", { job: job.name, slot: slot.toISOString(), ...describeError(error) });
        }
      }),
    );
  } finally {
    ctx.waitUntil(session.close());
  }
}
