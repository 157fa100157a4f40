/**
 * The metrics of docs/operations.md, computed from Postgres (shared data), never from one isolate's memory:
 * every scrape sees every execution, whichever Worker or Durable Object ran it. Queue depth comes
 * from the queues themselves (`Queue.metrics()`, the queue service's own backlog count).
 */
import { sql } from "drizzle-orm";
import { addBackupMetrics, type BackupSchedule } from "../backup/health";
import type { Database } from "../db/client";
import { partitionHealth } from "../db/partitions";
import { Exposition } from "../observability/prometheus";

/** 0.1 × 2^k seconds, k = 0..9. */
export const DURATION_BUCKETS = Array.from({ length: 10 }, (_, k) => Math.round(0.1 * 2 ** k * 10) / 10);
export const TOKEN_BUCKETS = [100, 500, 1000, 5000, 10000, 50000];

type Row = Record<string, unknown>;

export interface MetricSources {
  schedule: BackupSchedule;
  /** The queues by the name `ipa_queue_depth` labels them with. */
  queues: Record<string, Queue>;
}

export async function renderMetrics(db: Database, sources: MetricSources) {
  const exposition = new Exposition();
  const rows = async (query: ReturnType<typeof sql>) => (await db.execute<Row>(query)).rows;

  const started = await rows(
    sql`select workflow_id, trigger_type, count(*)::int as n from executions group by 1, 2 order by 1, 2`,
  );
  exposition.counter(
    "ipa_execution_started_total",
    "Executions started, by workflow and trigger.",
    started.map((r) => ({
      labels: { workflow_id: String(r.workflow_id), trigger_type: String(r.trigger_type) },
      value: Number(r.n),
    })),
  );

  const completed = await rows(sql`
    select workflow_id, status, count(*)::int as n from executions
    where status in ('completed', 'failed', 'cancelled') group by 1, 2 order by 1, 2`);
  exposition.counter(
    "ipa_execution_completed_total",
    "Executions that ended, by workflow and final status.",
    completed.map((r) => ({
      labels: { workflow_id: String(r.workflow_id), status: String(r.status) },
      value: Number(r.n),
    })),
  );

  const [duration] = await rows(sql`
    select count(*)::int as n, coalesce(sum(duration_ms), 0)::float8 / 1000 as total,
      ${sql.raw(DURATION_BUCKETS.map((b, i) => `count(*) filter (where duration_ms <= ${b * 1000})::int as b${i}`).join(", "))}
    from executions where status in ('completed', 'failed', 'cancelled') and duration_ms is not null`);
  exposition.histogram("ipa_execution_duration_seconds", "Wall time of ended executions.", [
    {
      bounds: DURATION_BUCKETS,
      buckets: DURATION_BUCKETS.map((_, i) => Number(duration[`b${i}`])),
      count: Number(duration.n),
      sum: Number(duration.total),
    },
  ]);

  const [active] = await rows(
    sql`select count(*)::int as n from executions where status not in ('completed', 'failed', 'cancelled')`,
  );
  exposition.gauge("ipa_active_executions", "Executions not yet ended.", [{ value: Number(active.n) }]);
  const queued = await rows(
    sql`select workflow_id, count(*)::int as n from executions where status = 'queued' group by 1 order by 1`,
  );
  exposition.gauge(
    "ipa_executions_queued",
    "Executions waiting behind their workflow's concurrency limit, by workflow.",
    queued.map((r) => ({ labels: { workflow_id: String(r.workflow_id) }, value: Number(r.n) })),
  );

  const tokens = await rows(sql`
    select input->>'agentId' as agent_id, count(*)::int as n, sum(prompt_tokens + completion_tokens)::float8 as total,
      ${sql.raw(TOKEN_BUCKETS.map((b, i) => `count(*) filter (where prompt_tokens + completion_tokens <= ${b})::int as b${i}`).join(", "))}
    from execution_steps where step_type = 'agent' and status in ('completed', 'failed') and input ? 'agentId'
    group by 1 order by 1`);
  exposition.histogram(
    "ipa_agent_token_usage",
    "Tokens (prompt + completion) per agent step, by agent.",
    tokens.map((r) => ({
      labels: { agent_id: String(r.agent_id) },
      bounds: TOKEN_BUCKETS,
      buckets: TOKEN_BUCKETS.map((_, i) => Number(r[`b${i}`])),
      count: Number(r.n),
      sum: Number(r.total),
    })),
  );

  // The model that answered last names the step's cost (a step's calls rarely change model).
  const costs = await rows(sql`
    select input->>'agentId' as agent_id, coalesce(output->>'model', 'unknown') as model, sum(cost_usd)::float8 as usd
    from execution_steps where step_type = 'agent' and cost_usd > 0 and input ? 'agentId'
    group by 1, 2 order by 1, 2`);
  exposition.counter(
    "ipa_agent_cost_usd_total",
    "What agent steps cost by MODEL_PRICES, in US dollars, by agent and model.",
    costs.map((r) => ({ labels: { agent_id: String(r.agent_id), model: String(r.model) }, value: Number(r.usd) })),
  );

  const retries = await rows(sql`select step_type, sum(retries)::int as n from execution_steps group by 1 order by 1`);
  exposition.counter(
    "ipa_step_retries_total",
    "Step attempts retried by their policy, by step type.",
    retries.map((r) => ({ labels: { step_type: String(r.step_type) }, value: Number(r.n) })),
  );

  const [dead] = await rows(sql`select coalesce(sum(dead_letters), 0)::int as n from execution_steps`);
  exposition.counter("ipa_steps_dead_lettered_total", "Step messages that ended in the dead-letter queue.", [
    { value: Number(dead.n) },
  ]);

  const [rejected] = await rows(sql`select count(*)::int as n from sync_rejections`);
  exposition.counter("ipa_sync_rejections_total", "Rows Postgres refused for good from execution outboxes.", [
    { value: Number(rejected.n) },
  ]);

  const counts = await rows(sql`select name, kind, count::float8 as n from engine_counters order by 1, 2`);
  const counted = (name: string, label: string) =>
    counts.filter((r) => r.name === name).map((r) => ({ labels: { [label]: String(r.kind) }, value: Number(r.n) }));
  exposition.counter(
    "ipa_timer_failures_total",
    "Execution timers whose handler failed and were re-armed with a backoff, by timer kind.",
    counted("timer_failed", "timer"),
  );
  exposition.counter(
    "ipa_invariant_repairs_total",
    "Broken engine invariants the watchdog found and repaired (a missing timer, a stranded start), by kind.",
    counted("invariant_repaired", "kind"),
  );
  exposition.counter(
    "ipa_jobs_dead_lettered_total",
    "Jobs (backups, verification, maintenance) that failed every delivery and went to the jobs dead-letter queue, by job type (not `job`, Prometheus' own label).",
    counted("job_dead_lettered", "job_type"),
  );

  exposition.counter(
    "ipa_notification_failures_total",
    "Notification deliveries that failed an attempt (each is retried with backoff), by channel type.",
    counted("notification_failed", "channel_type"),
  );
  const disabled = await rows(sql`
    select type, count(*) filter (where not enabled)::int as n from notification_channels group by 1 order by 1`);
  exposition.gauge(
    "ipa_notification_channels_disabled",
    "Notification channels disabled after 20 failed deliveries in a row, by channel type (alert above 0).",
    disabled.map((r) => ({ labels: { channel_type: String(r.type) }, value: Number(r.n) })),
  );

  const partitions = await partitionHealth(db, new Date());
  exposition.gauge(
    "ipa_partition_months_ahead",
    "Whole months from the current one to the newest monthly partition, by table (alert under 1).",
    partitions.map((p) => ({ labels: { table: p.table }, value: p.monthsAhead })),
  );
  exposition.gauge(
    "ipa_partition_default_rows",
    "Rows waiting in a table's default partition for their month to be created (alert above 0).",
    partitions.map((p) => ({ labels: { table: p.table }, value: p.defaultRows })),
  );

  await addQueueDepth(exposition, sources.queues);
  await addBackupMetrics(exposition, db, sources.schedule);
  return exposition.toString();
}

/** Messages each queue holds that no consumer has taken yet: for the steps queue, step messages dispatched and not yet claimed. */
async function addQueueDepth(exposition: Exposition, queues: Record<string, Queue>): Promise<void> {
  const samples = await Promise.all(
    Object.entries(queues).map(async ([name, queue]) => {
      try {
        return [{ labels: { queue_name: name }, value: (await queue.metrics()).backlogCount }];
      } catch {
        return []; // The queue service could not say: no sample rather than a wrong one.
      }
    }),
  );
  exposition.gauge(
    "ipa_queue_depth",
    "Messages sent to a queue and not yet taken by a consumer (steps: dispatched, not yet claimed).",
    samples.flat(),
  );
}
