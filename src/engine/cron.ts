/**
 * Workflow schedules: five-field cron expressions (minute hour day-of-month month day-of-week) in
 * a time zone, UTC unless the schedule names one (docs/workflows.md Triggers). Parsing and slot
 * arithmetic are croner's; what is ours is Vixie cron's day rule: when both day fields are
 * restricted a day matching either runs, but a field that starts with `*` (`*`, `*\/2`) leaves the
 * other one alone.
 */
import { Cron } from "croner";

export class CronError extends Error {}

export interface CronSchedule {
  source: string;
  timezone: string;
  cron: Cron;
}

export function parseCron(source: string, timezone = "UTC"): CronSchedule {
  const fields = source.trim().split(/\s+/);
  if (fields.length !== 5) throw new CronError("a cron expression has 5 fields: minute hour day month weekday");
  if (!isTimeZone(timezone)) throw new CronError(`"${timezone}" is not an IANA time zone`);
  const [, , dayOfMonth, , dayOfWeek] = fields;
  try {
    const cron = new Cron(fields.join(" "), {
      paused: true,
      mode: "5-part",
      timezone,
      domAndDow: dayOfMonth.startsWith("*") || dayOfWeek.startsWith("*"),
    });
    return { source: fields.join(" "), timezone, cron };
  } catch (error) {
    throw new CronError(error instanceof Error ? error.message.replace(/^CronPattern: /, "") : String(error));
  }
}

/** The latest slot at or before `at` (to the minute), or null if there is none. */
export function previousSlot(schedule: CronSchedule, at: Date): Date | null {
  const minute = new Date(at);
  minute.setUTCSeconds(0, 0);
  // croner's previous runs are strictly before the reference; a slot is on a minute boundary.
  return schedule.cron.previousRuns(1, new Date(minute.getTime() + 1_000))[0] ?? null;
}

/** The first slot strictly after `at`, or null if there is none. */
export function nextSlot(schedule: CronSchedule, at: Date): Date | null {
  return schedule.cron.nextRun(at);
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
