/** Worker entry: HTTP API, queue consumers and the cron dispatcher. */
import { buildApp } from "./app";
import { handleScheduled } from "./cron";
import type { Bindings } from "./env";
import { handleQueue } from "./queues";

export { ExecutionObject } from "./durable-objects/execution-object";

const app = buildApp();

export default {
  fetch: app.fetch,
  queue: handleQueue,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Bindings>;
