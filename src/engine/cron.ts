/**
 * Five-field cron expressions in UTC (minute hour day-of-month month day-of-week), as workflow
 * schedules use them: `*`, lists, ranges, steps, month and weekday names. When both day fields
 * are restricted a day matches either, as in Vixie cron.
 */

export class CronError extends Error {}

export interface CronSchedule {
  source: string;
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number>;
  months: Set<number>;
  daysOfWeek: Set<number>;
  dayOfMonthRestricted: boolean;
  dayOfWeekRestricted: boolean;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

export function parseCron(source: string): CronSchedule {
  const fields = source.trim().split(/\s+/);
  if (fields.length !== 5) throw new CronError("a cron expression has 5 fields: minute hour day month weekday");
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields;
  const daysOfWeek = parseField(dayOfWeek, 0, 7, WEEKDAYS, "weekday");
  if (daysOfWeek.has(7)) {
    daysOfWeek.delete(7);
    daysOfWeek.add(0);
  }
  return {
    source: fields.join(" "),
    minutes: parseField(minute, 0, 59, null, "minute"),
    hours: parseField(hour, 0, 23, null, "hour"),
    daysOfMonth: parseField(dayOfMonth, 1, 31, null, "day of month"),
    months: parseField(month, 1, 12, MONTHS, "month"),
    daysOfWeek,
    dayOfMonthRestricted: dayOfMonth !== "*",
    dayOfWeekRestricted: dayOfWeek !== "*",
  };
}

/** The latest slot at or before `at` (to the minute), or null if none within four years. */
export function previousSlot(schedule: CronSchedule, at: Date): Date | null {
  const start = new Date(at);
  start.setUTCSeconds(0, 0);
  const hours = [...schedule.hours].sort((a, b) => b - a);
  const minutes = [...schedule.minutes].sort((a, b) => b - a);
  const day = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()));
  for (let i = 0; i < 4 * 366; i++) {
    if (dayMatches(schedule, day)) {
      const isFirstDay = i === 0;
      for (const hour of hours) {
        if (isFirstDay && hour > start.getUTCHours()) continue;
        for (const minute of minutes) {
          const slot = new Date(day.getTime() + hour * 3_600_000 + minute * 60_000);
          if (slot.getTime() <= start.getTime()) return slot;
        }
      }
    }
    day.setUTCDate(day.getUTCDate() - 1);
  }
  return null;
}

/** The first slot strictly after `at`, or null if none within four years. */
export function nextSlot(schedule: CronSchedule, at: Date): Date | null {
  const start = new Date(at);
  start.setUTCSeconds(0, 0);
  const hours = [...schedule.hours].sort((a, b) => a - b);
  const minutes = [...schedule.minutes].sort((a, b) => a - b);
  const day = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()));
  for (let i = 0; i < 4 * 366; i++) {
    if (dayMatches(schedule, day)) {
      for (const hour of hours) {
        for (const minute of minutes) {
          const slot = new Date(day.getTime() + hour * 3_600_000 + minute * 60_000);
          if (slot.getTime() > start.getTime()) return slot;
        }
      }
    }
    day.setUTCDate(day.getUTCDate() + 1);
  }
  return null;
}

function dayMatches(schedule: CronSchedule, day: Date): boolean {
  if (!schedule.months.has(day.getUTCMonth() + 1)) return false;
  const byMonthDay = schedule.daysOfMonth.has(day.getUTCDate());
  const byWeekday = schedule.daysOfWeek.has(day.getUTCDay());
  if (schedule.dayOfMonthRestricted && schedule.dayOfWeekRestricted) return byMonthDay || byWeekday;
  if (schedule.dayOfMonthRestricted) return byMonthDay;
  if (schedule.dayOfWeekRestricted) return byWeekday;
  return true;
}

function parseField(field: string, min: number, max: number, names: string[] | null, label: string): Set<number> {
  const values = new Set<number>();
  for (const part of field.split(",")) {
    const [range, stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new CronError(`${label}: bad step "${stepText}"`);
    let from: number;
    let to: number;
    if (range === "*") {
      from = min;
      to = max;
    } else if (range.includes("-")) {
      const [a, b] = range.split("-");
      from = value(a, names, min, label);
      to = value(b, names, min, label);
    } else {
      from = value(range, names, min, label);
      to = stepText === undefined ? from : max;
    }
    if (from < min || to > max || from > to) throw new CronError(`${label}: "${part}" is outside ${min}-${max}`);
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

function value(text: string, names: string[] | null, min: number, label: string): number {
  const index = names?.indexOf(text.toLowerCase()) ?? -1;
  if (index >= 0) return index + min;
  if (!/^\d+$/.test(text)) throw new CronError(`${label}: "${text}" is not a number`);
  return Number(text);
}
