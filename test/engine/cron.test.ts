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
    const next = (source: string, from: string) => nextSlot(parseCron(source), at(from))?.toISOString();
    expect(next("0 0 1 jan,jul sun", "2026-07-02T00:00:00Z")).toBe("2026-07-05T00:00:00.000Z");
    expect(next("0 0 1 jan,jul *", "2026-02-02T00:00:00Z")).toBe("2026-07-01T00:00:00.000Z");
    expect(next("0 0 * * 7", "2026-12-01T00:00:00Z")).toBe("2026-12-06T00:00:00.000Z");
    expect(next("5-20/5 * * * *", "2026-12-01T00:20:00Z")).toBe("2026-12-01T01:05:00.000Z");
  });

  it("lets a day field starting with * restrict alone, as Vixie cron does", () => {
    // Mondays on an odd date: 2026-12-07 and 2026-12-21, not every odd date nor every Monday.
    const oddMondays = parseCron("0 0 */2 * 1");
    expect(nextSlot(oddMondays, at("2026-12-01T00:00:00Z"))?.toISOString()).toBe("2026-12-07T00:00:00.000Z");
    expect(nextSlot(oddMondays, at("2026-12-07T00:00:00Z"))?.toISOString()).toBe("2026-12-21T00:00:00.000Z");
  });

  it("reads the fields in the schedule's time zone, daylight saving time included", () => {
    const berlinMorning = parseCron("0 9 * * *", "Europe/Berlin");
    expect(nextSlot(berlinMorning, at("2026-12-07T00:00:00Z"))?.toISOString()).toBe("2026-12-07T08:00:00.000Z");
    expect(nextSlot(berlinMorning, at("2026-07-07T00:00:00Z"))?.toISOString()).toBe("2026-07-07T07:00:00.000Z");
    expect(previousSlot(berlinMorning, at("2026-12-07T08:00:00Z"))?.toISOString()).toBe("2026-12-07T08:00:00.000Z");
    expect(() => parseCron("0 9 * * *", "Mars/Olympus")).toThrow(CronError);
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
