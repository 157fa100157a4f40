/**
 * The Grafana dashboard and the alert rules speak of the metrics docs/operations.md names, and of nothing
 * else (a typo would leave a panel empty or an alert silent for good). promtool's checks of the
 * same files run in CI (`npm run check:ops`).
 */
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { dashboardQueries } from "../../scripts/lib/grafana.ts";

/** docs/operations.md, and Prometheus' own `up`. */
const KNOWN = new Set([
  "ipa_execution_started_total",
  "ipa_execution_completed_total",
  "ipa_execution_duration_seconds",
  "ipa_active_executions",
  "ipa_agent_token_usage",
  "ipa_step_retries_total",
  "ipa_steps_dead_lettered_total",
  "backup_last_success_timestamp_seconds",
  "backup_executions_total",
  "backup_duration_seconds",
  "backup_size_bytes",
  "backup_verification_failures_total",
  "ipa_queue_depth",
  "ipa_agent_cost_usd_total",
  "ipa_executions_queued",
  "ipa_sync_rejections_total",
  "backup_restore_duration_seconds",
  "backup_rpo_seconds",
  "backup_stale",
  // Extensions the README lists with their meaning.
  "backup_replica_lag_seconds",
  "backup_replica_pending",
  "backup_change_log_rows",
  "up",
]);

const metricNames = (expr: string) =>
  [...expr.matchAll(/\b((?:ipa|backup)_[a-z_]+|up)\b(?!\s*\()/g)].map((m) => m[1].replace(/_(bucket|sum|count)$/, ""));

describe("ops files", () => {
  it("the Grafana dashboard queries only known metrics, and has the panels operators look for", async () => {
    const dashboard = JSON.parse(await readFile("ops/grafana/ipa-platform.json", "utf8"));
    const queries = dashboardQueries(dashboard);
    for (const { panel, expr } of queries)
      for (const name of metricNames(expr)) expect(KNOWN, `${panel}: ${name}`).toContain(name);
    const titles = dashboard.panels.map((p: { title: string }) => p.title);
    for (const wanted of [
      "Executions started / s",
      "Success rate (15 m)",
      "p95 execution duration",
      "Active executions",
      "Queue depth",
      "Dead letters (1 h)",
      "Cost (USD, 24 h) by model",
      "Age of the newest backup",
      "Verification failures (24 h)",
      "Recovery point (RPO now)",
    ])
      expect(titles).toContain(wanted);
  });

  it("the alert rules watch only known metrics", async () => {
    const rules = await readFile("ops/prometheus/alerts.yml", "utf8");
    const exprs = [...rules.matchAll(/expr: (\|\n(?:\s{10}.*\n)+|.*)/g)].map((m) => m[1]);
    expect(exprs.length).toBe(8);
    for (const expr of exprs) for (const name of metricNames(expr)) expect(KNOWN, name).toContain(name);
  });
});
