/**
 * The Grafana dashboard and the alert rules speak of the metrics docs/operations.md names, and of nothing
 * else (a typo would leave a panel empty or an alert silent for good). promtool's checks of the
 * same files run in CI (`npm run check:ops`).
 */
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { dashboardQueries } from "../../scripts/lib/grafana.ts";

/** The metrics docs/operations.md names, and Prometheus' own `up`. */
const documented = async () =>
  new Set([
    ...[...(await readFile("docs/operations.md", "utf8")).matchAll(/`((?:ipa|backup)_[a-z_]+)/g)].map((m) => m[1]),
    "up",
  ]);

/** Every metric the Worker's /metrics exposes, read from its sources. */
async function emitted(): Promise<string[]> {
  const names: string[] = [];
  for (const file of ["src/services/metrics.ts", "src/backup/health.ts"]) {
    const text = await readFile(file, "utf8");
    for (const m of text.matchAll(/exposition\.(?:counter|gauge|histogram)\(\s*"([a-z_]+)"/g)) names.push(m[1]);
  }
  return names;
}

const metricNames = (expr: string) =>
  [...expr.matchAll(/\b((?:ipa|backup)_[a-z_]+|up)\b(?!\s*\()/g)].map((m) => m[1].replace(/_(bucket|sum|count)$/, ""));

describe("ops files", () => {
  it("documents every metric /metrics exposes", async () => {
    const known = await documented();
    const names = await emitted();
    expect(names.length).toBeGreaterThan(25);
    for (const name of names) expect(known, name).toContain(name);
  });

  it("the Grafana dashboard queries only known metrics, and has the panels operators look for", async () => {
    const known = await documented();
    const dashboard = JSON.parse(await readFile("ops/grafana/ipa-platform.json", "utf8"));
    const queries = dashboardQueries(dashboard);
    for (const { panel, expr } of queries)
      for (const name of metricNames(expr)) expect(known, `${panel}: ${name}`).toContain(name);
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
    const known = await documented();
    const rules = await readFile("ops/prometheus/alerts.yml", "utf8");
    const exprs = [...rules.matchAll(/expr: (\|\n(?:\s{10}.*\n)+|.*)/g)].map((m) => m[1]);
    expect(exprs.length).toBe(14);
    for (const expr of exprs) for (const name of metricNames(expr)) expect(known, name).toContain(name);
  });
});
