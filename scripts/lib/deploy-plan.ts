/**
 * What a deployed environment of wrangler.toml needs (docs/operations.md, Deploy): the bindings the
 * Worker reads, a dead-letter queue behind every queue, vars that survive a deploy, and the
 * resources (queues, buckets) that must exist in the account before it serves.
 */

/** The parts of wrangler's resolved configuration (`unstable_readConfig`) a deploy depends on. */
export interface DeployConfig {
  name?: string;
  keep_vars?: boolean;
  vars?: Record<string, unknown>;
  secrets?: { required?: string[] };
  queues: {
    producers?: Array<{ binding: string; queue: string }>;
    consumers?: Array<{ queue: string; dead_letter_queue?: string }>;
  };
  r2_buckets: Array<{ binding: string; bucket_name?: string }>;
  durable_objects: { bindings: Array<{ name: string }> };
  ratelimits: Array<{ name: string }>;
}

export interface Resource {
  kind: "queue" | "bucket";
  name: string;
}

/** The bindings src/env.ts reads, by kind; the Worker fails at its first use of a missing one. */
const REQUIRED = {
  queues: ["STEPS_QUEUE", "JOBS_QUEUE"],
  buckets: ["STORAGE", "STORAGE_REPLICA"],
  objects: ["EXECUTIONS"],
  rateLimits: ["USER_RATE_LIMIT", "IP_RATE_LIMIT"],
  secrets: ["DATABASE_URL", "JWT_SECRET", "ENCRYPTION_KEYS"],
} as const;

/** Every queue and bucket the environment binds, dead-letter queues included. */
export function resourcesOf(config: DeployConfig): Resource[] {
  const queues = new Set<string>();
  for (const producer of config.queues.producers ?? []) queues.add(producer.queue);
  for (const consumer of config.queues.consumers ?? []) {
    queues.add(consumer.queue);
    if (consumer.dead_letter_queue) queues.add(consumer.dead_letter_queue);
  }
  const buckets = new Set(config.r2_buckets.flatMap((bucket) => (bucket.bucket_name ? [bucket.bucket_name] : [])));
  return [
    ...[...queues].map((name) => ({ kind: "queue" as const, name })),
    ...[...buckets].map((name) => ({ kind: "bucket" as const, name })),
  ];
}

/** Why this environment cannot be deployed as it is; empty when it can. */
export function deployProblems(config: DeployConfig): string[] {
  const problems: string[] = [];
  const missing = (kind: string, wanted: readonly string[], present: Array<string | undefined>) => {
    for (const name of wanted) if (!present.includes(name)) problems.push(`no ${kind} binding ${name}`);
  };
  missing(
    "queue producer",
    REQUIRED.queues,
    (config.queues.producers ?? []).map((p) => p.binding),
  );
  missing(
    "R2 bucket",
    REQUIRED.buckets,
    config.r2_buckets.map((b) => b.binding),
  );
  missing(
    "Durable Object",
    REQUIRED.objects,
    config.durable_objects.bindings.map((b) => b.name),
  );
  missing(
    "rate limit",
    REQUIRED.rateLimits,
    config.ratelimits.map((r) => r.name),
  );
  const required = config.secrets?.required ?? [];
  for (const name of REQUIRED.secrets) {
    if (!required.includes(name)) problems.push(`secrets.required does not name ${name}`);
  }

  const consumers = config.queues.consumers ?? [];
  const consumed = new Set(consumers.map((c) => c.queue));
  const deadLetterQueues = new Set(consumers.flatMap((c) => (c.dead_letter_queue ? [c.dead_letter_queue] : [])));
  for (const producer of config.queues.producers ?? []) {
    if (!consumed.has(producer.queue)) problems.push(`queue ${producer.queue} has no consumer`);
  }
  for (const consumer of consumers) {
    if (!deadLetterQueues.has(consumer.queue) && !consumer.dead_letter_queue) {
      problems.push(`queue ${consumer.queue} has no dead_letter_queue: its failed messages would be dropped`);
    }
  }
  for (const queue of deadLetterQueues) {
    if (!consumed.has(queue)) problems.push(`dead-letter queue ${queue} has no consumer`);
  }

  if (config.keep_vars !== true) {
    problems.push("keep_vars is not true: vars set in the Cloudflare dashboard would be deleted by the deploy");
  }
  if ("ALLOW_BUILTIN_PROVIDER" in (config.vars ?? {})) {
    problems.push("vars set ALLOW_BUILTIN_PROVIDER: the built-in model is for development and tests only");
  }
  return problems;
}
