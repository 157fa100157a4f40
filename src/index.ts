/** Worker entry: HTTP API, queue consumers and the cron dispatcher. */
import { buildApp } from "./app";
import { handleQueue } from "./consumers";
import { handleScheduled } from "./cron";
import type { Bindings } from "./env";

export { ExecutionObject } from "./durable-objects/execution-object";

const app = buildApp();

export default {
  fetch: app.fetch,
  queue: handleQueue,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Bindings>;
