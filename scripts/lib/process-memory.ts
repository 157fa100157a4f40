/**
 * Resident memory of the local workerd processes (`npm run dev`'s Worker), sampled from /proc
 * while a stage runs, so a drill can show a full backup's memory stays flat as the data grows.
 * Linux only; elsewhere it reports nothing.
 */
import { readdir, readFile } from "node:fs/promises";

async function workerdRssBytes(): Promise<number | null> {
  let total = 0;
  let found = false;
  for (const pid of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
    if (!/^Name:\s+workerd$/m.test(status)) continue;
    const rss = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    if (rss) {
      total += Number(rss[1]) * 1024;
      found = true;
    }
  }
  return found ? total : null;
}

/** Samples every `everyMs` until stopped; answers the first and the highest sample. */
export function sampleWorkerMemory(everyMs = 200): {
  stop(): Promise<{ startBytes: number; peakBytes: number } | null>;
} {
  let first: number | null = null;
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const rss = await workerdRssBytes();
      if (rss !== null) {
        first ??= rss;
        peak = Math.max(peak, rss);
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return first === null ? null : { startBytes: first, peakBytes: peak };
    },
  };
}
