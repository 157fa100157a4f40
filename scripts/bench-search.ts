/**
 * `npm run bench:search`: the executions list's filters over many rows, as a client sees them.
 * Against `npm run dev` it seeds `--rows` executions (default 1,000,000) of one workflow in the
 * platform's database, each with two of 1,000 tags and a `region` and a `customer` in its metadata,
 * runs each filter of the list through the API `--runs` times (medians and p99) as the admin (who
 * reads them all) and as a user who owns one execution of their own among them (whose visibility
 * must not cost a walk through the million), then removes the seeded rows again.
 *
 *   ADMIN_EMAIL=… ADMIN_PASSWORD=… npm run bench:search [-- --rows 1000000 --runs 30]
 */
import { parseArgs } from "node:util";
import pg from "pg";
import { createClient } from "#client";
import { answer, connectApi, createWorkflow, startExecution } from "./lib/api-client.ts";
import { readDevState } from "./lib/dev-state.ts";
import { summary } from "./lib/stats.ts";

const { values: args } = parseArgs({
  options: { rows: { type: "string", default: "1000000" }, runs: { type: "string", default: "30" } },
});
const ROWS = Number(args.rows);
const RUNS = Number(args.runs);
const SEED_BATCH = 100_000;

const api = await connectApi();
const db = new pg.Pool({ connectionString: (await readDevState()).databaseUrl, max: 2, application_name: "ipa-bench" });
const workflow = await createWorkflow(api.client, `bench-search-${Date.now()}`, [
  { id: "t", type: "transform", output: { ok: true } },
]);

try {
  await seed();
  const probe = (
    await db.query<{ id: string }>("select id from executions where workflow_id = $1 limit 1", [workflow.id])
  ).rows[0].id;
  const filters: Array<[label: string, search: string]> = [
    ["newest 50 (no filter)", ""],
    ["tag (0.2% of rows)", "tag=tag-7"],
    ["two tags (none match)", "tag=tag-7&tag=tag-8"],
    ["metadata pair (1%)", "meta.customer=customer-42"],
    ["q: a metadata value", "q=customer-42"],
    ["q: an id prefix", `q=${probe.slice(0, 8)}`],
    ["status + workflow", `status=completed&workflowId=${workflow.id}`],
  ];
  console.log(`executions list over ${ROWS.toLocaleString("en")} seeded rows, ${RUNS} runs each (ms)`);
  console.log("filter".padEnd(28), "p50".padStart(8), "p99".padStart(8), "rows".padStart(6));
  await measure(api.token, filters);
  const user = await oneExecutionUser();
  await measure(user, [
    ["a user: newest 50", ""],
    ["a user: tag", "tag=tag-7"],
    ["a user: q (their tag)", "q=mine"],
  ]);
} finally {
  console.log("removing the seeded rows…");
  await db.query("delete from executions where workflow_id = $1", [workflow.id]);
  await db.end();
}

/** Each filter RUNS times with `token`: p50, p99 and the rows of the last answer. */
async function measure(token: string, filters: Array<[label: string, search: string]>): Promise<void> {
  for (const [label, search] of filters) {
    const samples: number[] = [];
    let count = 0;
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      const response = await fetch(`${api.baseUrl}/api/v1/executions?limit=50&${search}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = (await response.json()) as { items?: unknown[] };
      if (!response.ok) throw new Error(`${label}: ${response.status} ${JSON.stringify(body)}`);
      samples.push(performance.now() - started);
      count = body.items?.length ?? 0;
    }
    const { p50, p99 } = summary(samples);
    console.log(label.padEnd(28), p50.toFixed(1).padStart(8), p99.toFixed(1).padStart(8), String(count).padStart(6));
  }
}

/** A user (role `user`) with one workflow and one execution of their own, tagged `mine`; their token. */
async function oneExecutionUser(): Promise<string> {
  const stamp = Date.now();
  const email = `bench-search-${stamp}@example.test`;
  const password = `bench-password-${stamp}`;
  await answer(
    "create a bench user",
    api.client.api.v1.users.$post({ json: { email, username: `benchsearch${stamp}`, password, roles: ["user"] } }),
  );
  const { accessToken } = await answer(
    "bench user login",
    createClient(api.baseUrl).api.v1.auth.login.$post({ json: { email, password } }),
  );
  const client = createClient(api.baseUrl, { headers: { authorization: `Bearer ${accessToken}` } });
  const own = await createWorkflow(client, `bench-search-own-${stamp}`, [{ id: "t", type: "transform", output: 1 }]);
  const id = await startExecution(client, own.id);
  await db.query("update executions set tags = '{mine}', search_terms = '{mine}' where id = $1", [id]);
  return accessToken;
}

/** Inserts the rows in batches with generate_series, then refreshes the planner's statistics. */
async function seed(): Promise<void> {
  const started = performance.now();
  for (let from = 0; from < ROWS; from += SEED_BATCH) {
    const to = Math.min(ROWS, from + SEED_BATCH) - 1;
    await db.query(
      `insert into executions (workflow_id, workflow_version_id, status, trigger_type, input, tags, metadata,
         search_terms, created_at, next_check_at)
       select $1, $2, 'completed', 'manual', '{}'::jsonb,
         array['tag-' || (n % 500), 'tag-' || (500 + n % 499)],
         jsonb_build_object('region', 'region-' || (n % 7), 'customer', 'customer-' || (n % 100)),
         array['tag-' || (n % 500), 'tag-' || (500 + n % 499), 'region-' || (n % 7), 'customer-' || (n % 100)],
         now() - make_interval(secs => n), now()
       from generate_series($3::int, $4::int) as n`,
      [workflow.id, workflow.versionId, from, to],
    );
  }
  await db.query("analyze executions");
  console.log(
    `seeded ${ROWS.toLocaleString("en")} executions in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}
