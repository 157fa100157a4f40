/**
 * Fires the Worker's cron trigger once a minute during local development, since `wrangler dev`
 * does not run Cron Triggers by itself. Each tick passes the minute it stands for as the
 * scheduled time, exactly as Cloudflare would, and the next tick is armed as this one fires, not
 * when it answers: one slow tick (a backup under load) does not make the minutes after it skip.
 */

export interface CronTicker {
  stop(): void;
}

export interface CronTickerOptions {
  /** The period of the schedule (a minute; shorter in tests). */
  periodMs?: number;
}

export function startCronTicker(
  baseUrl: string,
  cron: string,
  log: (line: string) => void,
  { periodMs = 60_000 }: CronTickerOptions = {},
): CronTicker {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  // `after`: the slot just fired. A timer may fire a millisecond early, and the next slot must
  // still be the one after it, never the same slot again.
  const schedule = (after = Date.now()) => {
    if (stopped) return;
    const next = Math.floor(after / periodMs) * periodMs + periodMs;
    timer = setTimeout(
      () => {
        schedule(Math.max(Date.now(), next));
        void tick(next);
      },
      Math.max(0, next - Date.now()),
    );
  };
  const tick = async (slot: number) => {
    const url = `${baseUrl}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent(cron)}&time=${slot}`;
    try {
      const res = await fetch(url);
      if (!res.ok) log(`cron tick ${new Date(slot).toISOString()} answered ${res.status}`);
    } catch (error) {
      if (!stopped) log(`cron tick failed: ${(error as Error).message}`);
    }
  };
  schedule();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
