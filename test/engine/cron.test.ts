import { describe, expect, it } from "vitest";
import { CronError, nextSlot, parseCron, previousSlot } from "../../src/engine/cron";

const at = (iso: string) => new Date(iso);

describe("cron", () => {
  it("finds the latest slot at or before a time", () => {
    const every15 = parseCron("*/15 * * * *");
    expect(previousSlot(every15, at("2026-11-22T10:07:30Z"))?.toISOString()).toBe("2026-11-22T10:00:00.000Z");
    expect(previousSlot(every15, at("2026-11-22T10:15:00Z"))?.toISOString()).toBe("2026-11-22T10:15:00.000Z");
    const daily = parseCron("0 2 * * *");
    expect(previousSlot(daily, at("2026-11-22T01:59:00Z"))?.toISOString()).toBe("2026-11-21T02:00:00.000Z");
  });

  it("finds the next slot after a time", () => {
    expect(nextSlot(parseCron("30 9 * * 1-5"), at("2026-11-21T12:00:00Z"))?.toISOString()).toBe(
      "2026-11-23T09:30:00.000Z",
    );
  });

  it("reads names, lists, ranges, steps and Sunday as 0 or 7", () => {
    const schedule = parseCron("0 0 1 jan,jul sun");
    expect([...schedule.months]).toEqual([1, 7]);
    expect([...parseCron("0 0 * * 7").daysOfWeek]).toEqual([0]);
    expect([...parseCron("5-20/5 * * * *").minutes]).toEqual([5, 10, 15, 20]);
  });

  it("matches either day field when both are restricted", () => {
    const schedule = parseCron("0 12 13 * fri");
    // 2026-11-20 is a Friday, not the 13th.
    expect(previousSlot(schedule, at("2026-11-20T13:00:00Z"))?.toISOString()).toBe("2026-11-20T12:00:00.000Z");
    expect(previousSlot(schedule, at("2026-11-14T00:00:00Z"))?.toISOString()).toBe("2026-11-13T12:00:00.000Z");
  });

  it.each([
    "* * * *",
    "60 * * * *",
    "* 24 * * *",
    "* * 0 * *",
    "* * * 13 *",
    "*/0 * * * *",
    "a b c d e",
    "5-1 * * * *",
  ])("rejects %j", (source) => expect(() => parseCron(source)).toThrow(CronError));
});
