/**
 * Fires the Worker's cron trigger once a minute during local development, since `wrangler dev`
 * does not run Cron Triggers by itself. Each tick passes the minute it stands for as the
 * scheduled time, exactly as Cloudflare would.
 */

export interface CronTicker {
  stop(): void;
}

export function startCronTicker(baseUrl: string, cron: string, log: (line: string) => void): CronTicker {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    const now = Date.now();
    const nextMinute = Math.floor(now / 60_000) * 60_000 + 60_000;
    timer = setTimeout(async () => {
      const url = `${baseUrl}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent(cron)}&time=${nextMinute}`;
      try {
        const res = await fetch(url);
        if (!res.ok) log(`cron tick ${new Date(nextMinute).toISOString()} answered ${res.status}`);
      } catch (error) {
        log(`cron tick failed: ${(error as Error).message}`);
      }
      schedule();
    }, nextMinute - now);
  };
  schedule();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
