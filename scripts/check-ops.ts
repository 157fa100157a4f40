/**
 * `npm run check:ops`: the alert rules and the Grafana dashboard checked by promtool (Debian's
 * `prometheus` package): `check rules`, the `test rules` cases, and every dashboard query parsed
 * as PromQL (each written as a recording rule into a scratch rules file).
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dashboardQueries } from "./lib/grafana.ts";

const DIR = "ops/prometheus";

function promtool(...args: string[]): void {
  const run = spawnSync("promtool", args, { stdio: "inherit" });
  if (run.error) throw new Error(`promtool is not installed (apt-get install prometheus): ${run.error.message}`);
  if (run.status !== 0) process.exit(run.status ?? 1);
}

promtool("check", "rules", `${DIR}/alerts.yml`);
promtool("test", "rules", `${DIR}/alerts.test.yml`);

const queries = dashboardQueries(JSON.parse(await readFile("ops/grafana/ipa-platform.json", "utf8")));
const scratch = await mkdtemp(`${tmpdir()}/ipa-ops-`);
try {
  const rules = queries.map(
    (q, i) => `      - record: ipa:dashboard_query_${i}\n        expr: ${JSON.stringify(q.expr)}`,
  );
  await writeFile(
    `${scratch}/dashboard.rules.yml`,
    `groups:\n  - name: dashboard-queries\n    rules:\n${rules.join("\n")}\n`,
  );
  console.log(`dashboard: ${queries.length} queries`);
  promtool("check", "rules", `${scratch}/dashboard.rules.yml`);
} finally {
  await rm(scratch, { recursive: true, force: true });
}
