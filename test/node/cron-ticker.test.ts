/** The local cron ticker fires every period on time, however long a tick takes to answer. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { startCronTicker } from "../../scripts/lib/cron-ticker.ts";

describe("the local cron ticker", () => {
  it("arms the next tick as one fires, so a slow tick skips no period", async () => {
    const slots: number[] = [];
    // The Worker answers each tick only after three periods (a backup under load, say).
    const server = createServer((req, res) => {
      slots.push(Number(new URL(req.url ?? "", "http://x").searchParams.get("time")));
      setTimeout(() => res.end("ok"), 900).unref();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const ticker = startCronTicker(`http://127.0.0.1:${port}`, "* * * * *", () => {}, { periodMs: 300 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    } finally {
      ticker.stop();
      server.closeAllConnections();
      server.close();
    }
    expect(slots.length).toBeGreaterThanOrEqual(5);
    // One call per period, each for its own slot, none skipped.
    for (let i = 1; i < slots.length; i++) expect(slots[i] - slots[i - 1]).toBe(300);
  });
});
