/** Fires the Worker's cron trigger for one scheduled minute, as Cloudflare would, and waits for its work. */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../src/index";

export async function fireCron(slot: Date, env: Parameters<typeof worker.scheduled>[1]): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: slot.getTime(), cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}
