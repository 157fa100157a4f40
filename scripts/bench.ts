/**
 * `npm run bench`: measures the running platform (`npm run dev`, or IPA_URL) from outside, as a
 * client sees it. Prints medians with p99 for step-to-step latency (transform and http), create-to-
 * done time, executions per second at a stated concurrency, and the delivery latency of one event
 * to 200 and 1,000 WebSocket viewers. Against `npm run dev` it also starts its peers
 * (bench/peer/, the same local runtime and Postgres) and prints each figure as a ratio to its
 * peer, measured in the same run, interleaved: a bare Hono + Neon list, the raw queue-hop floor
 * and Cloudflare Workflows; then a scale phase (`--scale` concurrent executions, peak Postgres
 * connections from pg_stat_activity).
 *
 *   ADMIN_EMAIL=… ADMIN_PASSWORD=… npm run bench [-- --runs 30 --concurrency 10 --throughput 200 --scale 1000 --map-items 1000]
 *
 * The http workflow calls a server this script starts on 127.0.0.1, which the platform must be
 * allowed to reach (`npm run dev` allows loopback unless HTTP_STEP_ALLOWLIST is set).
 */
import { writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import pg from "pg";
import { createClient } from "#client";
import {
  answer,
  approveStep,
  connectApi,
  createWorkflow,
  type IpaClient,
  startExecution as startWith,
  streamTicket,
} from "./lib/api-client.ts";
import { startBenchPeer } from "./lib/bench-peer.ts";
import { readDevState } from "./lib/dev-state.ts";
import { startIsolateProfile } from "./lib/isolate-profile.ts";
import { summary } from "./lib/stats.ts";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "30" },
    concurrency: { type: "string", default: "10" },
    throughput: { type: "string", default: "200" },
    /** Print the functions with the most self time during the transform throughput run. */
    profile: { type: "boolean", default: false },
    viewers: { type: "string", default: "200,1000" },
    scale: { type: "string", default: "1000" },
    "load-rate": { type: "string", default: "100,40" },
    "no-peers": { type: "boolean", default: false },
    "map-items": { type: "string", default: "1000" },
  },
});
const SCALE = Number(args.scale);
const FLEET_USERS = 8;
/** Queries the bench itself sends Postgres while it waits (subtracted from the per-execution work). */
let benchPolls = 0;
const RUNS = Number(args.runs);
const CONCURRENCY = Number(args.concurrency);
const THROUGHPUT_RUNS = Number(args.throughput);
const VIEWERS = String(args.viewers).split(",").map(Number);
const LOAD_RATES = String(args["load-rate"]).split(",").map(Number);
const LOAD_SECONDS = 10;
const MAP_ITEMS = Number(args["map-items"]);
const MAP_CONCURRENCY = 50;

const api = await connectApi();
const devState = args["no-peers"] ? null : await readDevState().catch(() => null);
const peer = devState ? await startBenchPeer(devState) : null;
// The platform's database, for the floor's table and pg_stat_activity (dropped again at the end).
const postgres = devState
  ? new pg.Pool({ connectionString: devState.databaseUrl, max: 4, application_name: "ipa-bench" })
  : null;
await postgres?.query("create table if not exists bench_floor (run text not null, hop int not null)");
const arrivals = new Map<string, number[]>();
const target = createServer((req, res) => {
  const run = new URL(req.url ?? "/", "http://x").searchParams.get("run") ?? "";
  arrivals.set(run, [...(arrivals.get(run) ?? []), performance.timeOrigin + performance.now()]);
  res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
});
await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
const targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}/step`;

const report: Array<[string, string]> = [];
const ms = (s: ReturnType<typeof summary>) => `p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms (n=${s.n})`;

console.log(
  `machine: ${cpus()[0]?.model ?? "?"} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
);
console.log(`target: ${api.baseUrl}\n`);

const fleet = await benchFleet(FLEET_USERS, "user");
// Viewers read every execution: the fan-out's tickets come from them, 250 each at most.
const watchers = await benchFleet(Math.max(1, Math.ceil(Math.max(...VIEWERS) / 250)), "viewer");

// 0. An authenticated, database-backed list against the bare peer, interleaved request by request:
// each bench user owns 20 workflows, so both answer a full page of the same rows.
if (peer) {
  await Promise.all(
    fleet.users.map((user) =>
      Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          createWorkflow(user.client, `bench-list-${i}`, [{ id: "t", type: "transform", output: i }]),
        ),
      ),
    ),
  );
  let turn = 0;
  const nextUser = () => fleet.users[turn++ % fleet.users.length];
  const ours = (user = nextUser()) =>
    fetch(`${api.baseUrl}/api/v1/workflows?limit=20`, { headers: { authorization: `Bearer ${user.token}` } });
  const bare = (user = nextUser()) => fetch(`${peer.url}/bare/workflows?owner=${user.id}`);
  const [oursMs, bareMs] = [[], []] as [number[], number[]];
  for (let i = 0; i < 20; i++) await Promise.all([(await ours()).text(), (await bare()).text()]); // warm both
  for (let i = 0; i < RUNS * 10; i++) {
    const user = nextUser();
    oursMs.push(await timed(() => ours(user)));
    bareMs.push(await timed(() => bare(user)));
  }
  const [o, b] = [summary(oursMs), summary(bareMs)];
  report.push(["GET /workflows (authenticated)", ms(o)]);
  report.push(["  bare Hono + Neon peer, same query", `${ms(b)}; ratio p50 ${(o.p50 / b.p50).toFixed(2)}×`]);
  const [oursRate, bareRate] = [await rate(ours), await rate(bare)];
  report.push([
    "  requests/s at 10 concurrent clients, 5 s",
    `ours ${oursRate.toFixed(0)}/s, peer ${bareRate.toFixed(0)}/s; ratio ${(oursRate / bareRate).toFixed(2)}×`,
  ]);
  const loaded = (l: Awaited<ReturnType<typeof load>>) =>
    `${ms(l.latency)}, ${l.errors} errors (${l.serverErrors} 5xx)`;
  for (const perSecond of LOAD_RATES) {
    const [oursLoad, bareLoad] = [await load(ours, perSecond), await load(bare, perSecond)];
    report.push([`load: ${perSecond} requests/s for ${LOAD_SECONDS} s, ours`, loaded(oursLoad)]);
    report.push([
      "  the same load, bare peer",
      `${loaded(bareLoad)}; ratio p99 ${(oursLoad.latency.p99 / bareLoad.latency.p99).toFixed(2)}×`,
    ]);
  }
}

// 0b. Round trips to Postgres per request, as the relay counts them: what a far edge pays, one
// continent each (start `npm run dev` with NEON_RELAY_LATENCY_MS=60 to pay them here too). The
// fewest of five tries, each after a quiet moment, so background work (flushes, cron) adds nothing.
if (devState?.statsUrl && peer) {
  const statsUrl = devState.statsUrl;
  const stats = async () => (await (await fetch(statsUrl)).json()) as { roundTrips: number; latencyMs: number };
  /** Round trips as counted (every connection's) and the request's time: at a latency, trips waited ≈ ms / latency. */
  const tripsOf = async (request: (n: number) => Promise<Response>): Promise<{ count: number; ms: number }> => {
    const tries: { count: number; ms: number }[] = [];
    for (let n = 0; n < 5; n++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const before = (await stats()).roundTrips;
      const began = performance.now();
      const response = await request(n);
      await response.text();
      const ms = performance.now() - began;
      if (!response.ok) throw new Error(`round trips: ${response.url} answered ${response.status}`);
      tries.push({ count: (await stats()).roundTrips - before, ms });
    }
    const fewest = Math.min(...tries.map((t) => t.count));
    return { count: fewest, ms: Math.min(...tries.filter((t) => t.count === fewest).map((t) => t.ms)) };
  };
  const user = fleet.users[0];
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${api.baseUrl}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${user.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const gated = (await createWorkflow(user.client, `bench-trips-${Date.now()}`, [{ id: "gate", type: "approval" }])).id;
  const waiting: string[] = [];
  for (let n = 0; n < 5; n++) waiting.push(await startExecution(gated, {}, user.client));
  for (const id of waiting) await waitWaiting(id);
  const latency = (await stats()).latencyMs;
  const trips = {
    list: await tripsOf(() => call("GET", "/workflows?limit=20")),
    bare: await tripsOf(() => fetch(`${peer.url}/bare/workflows?owner=${user.id}`)),
    get: await tripsOf(() => call("GET", `/executions/${waiting[0]}`)),
    ticket: await tripsOf(() => call("POST", `/executions/${waiting[0]}/stream-ticket`)),
    start: await tripsOf(() => call("POST", `/workflows/${gated}/executions`, { input: {} })),
    approve: await tripsOf((n) => call("POST", `/executions/${waiting[n]}/steps/gate/approve`, {})),
  };
  // Queries asked side by side each count; what the caller waits for is the time.
  const shown = ({ count, ms }: { count: number; ms: number }) =>
    latency > 0 ? `${count} (${ms.toFixed(0)} ms ≈ ${(ms / latency).toFixed(1)} waited)` : String(count);
  report.push([
    `round trips to Postgres per request (relay latency ${latency} ms each)`,
    `list ${shown(trips.list)} (bare peer ${shown(trips.bare)}), get execution ${shown(trips.get)}, stream ticket ${shown(trips.ticket)}, start ${shown(trips.start)}, approve ${shown(trips.approve)}`,
  ]);
}

// 1. Three transform steps.
const transformSteps = [0, 1, 2].map((i) => ({
  id: `t${i}`,
  type: "transform",
  output: { step: i, prev: i ? `{{steps.t${i - 1}.output.step}}` : "{{input.n}}" },
  dependsOn: i ? [`t${i - 1}`] : [],
}));
const transformWf = await workflow("bench-transform", transformSteps);
const transformGaps: number[] = [];
const transformDone: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const id = await startAndWait(transformWf, { n: i });
  const logs = await logsOf(id);
  transformGaps.push(...stepGaps(logs, ["t0", "t1", "t2"]));
  transformDone.push(await createToDone(id));
}
report.push(["transform step → step (event times)", ms(summary(transformGaps))]);
report.push(["transform create → done", ms(summary(transformDone))]);

// 2. Three http steps against the local server (arrival to arrival, seen by the server).
const httpSteps = [0, 1, 2].map((i) => ({
  id: `h${i}`,
  type: "http",
  request: { url: `${targetUrl}?run={{input.run}}&step=${i}`, method: "GET" },
  dependsOn: i ? [`h${i - 1}`] : [],
}));
const httpWf = await workflow("bench-http", httpSteps);
const httpGaps: number[] = [];
const httpDone: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const run = `r${i}`;
  const id = await startAndWait(httpWf, { run });
  const seen = arrivals.get(run) ?? [];
  if (seen.length !== 3) throw new Error(`http run ${run} reached the server ${seen.length} times`);
  httpGaps.push(seen[1] - seen[0], seen[2] - seen[1]);
  httpDone.push(await createToDone(id));
}
report.push(["http step → step (request arrivals)", ms(summary(httpGaps))]);
report.push(["http create → done", ms(summary(httpDone))]);
if (peer) {
  // The floor: three queue hops, each one Postgres write and the same call to the target.
  const floorGaps: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const run = `floor${i}`;
    await fetch(`${peer.url}/floor`, { method: "POST", body: JSON.stringify({ target: targetUrl, run }) });
    const seen = await arrivalsOf(run, 3);
    floorGaps.push(seen[1] - seen[0], seen[2] - seen[1]);
  }
  const floor = summary(floorGaps);
  report.push([
    "  raw floor: queue hop + Postgres write",
    `${ms(floor)}; ratio p50 ${(summary(httpGaps).p50 / floor.p50).toFixed(2)}×`,
  ]);
}

// 3. Throughput: THROUGHPUT_RUNS transform executions, CONCURRENCY starts in flight at a time,
// spread over the bench users so that no one user's rate limit (600 requests a minute) caps it.
const fleetTransform = await fleet.workflow("bench-transform", transformSteps);
const ids: string[] = [];
let next = 0;
// The isolate's CPU over these runs, from its profiler (`npm run dev` records its inspector).
const profiling = devState?.inspectorUrl ? await startIsolateProfile(devState.inspectorUrl).catch(() => null) : null;
const began = Date.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < THROUGHPUT_RUNS) {
      next++;
      ids.push(await fleet.start(fleetTransform, next, { n: next }));
    }
  }),
);
const finished = await Promise.all(ids.map((id) => waitDone(id)));
const lastDone = Math.max(...finished.map((e) => Date.parse(e.completedAt ?? "")));
const seconds = (lastDone - began) / 1000;
const profile = await profiling?.stop();
const oursTransform = THROUGHPUT_RUNS / seconds;
let transformLine = `${oursTransform.toFixed(1)} executions/s`;
if (peer) {
  const computed = await closedLoop(async (n) => {
    await peerWorkflow(peer.url, { target: targetUrl, run: `c${n}`, compute: true }, 20);
  });
  transformLine += `; Cloudflare Workflows (3 computing step.do) ${computed.toFixed(1)}/s; ratio ${(oursTransform / computed).toFixed(2)}×`;
}
report.push([
  `throughput, 3 transform steps (${THROUGHPUT_RUNS} runs, ${CONCURRENCY} concurrent starts)`,
  transformLine,
]);
if (profile) {
  report.push([
    "  the isolate's CPU per execution (profiler; API, objects and consumers share it)",
    `${(profile.busyMs / THROUGHPUT_RUNS).toFixed(1)} ms (busy ${profile.busyMs.toFixed(0)} of ${profile.totalMs.toFixed(0)} ms)`,
  ]);
  if (args.profile) {
    for (const { name, selfMs } of profile.top) console.log(`    ${selfMs.toFixed(1).padStart(8)} ms  ${name}`);
    await writeFile("bench-transform.cpuprofile", JSON.stringify(profile.raw));
    console.log("  the whole profile: bench-transform.cpuprofile (open it in DevTools)");
  }
}
if (peer) {
  // The same three http calls, started CONCURRENCY at a time and polled until done, by each.
  const fleetHttp = await fleet.workflow("bench-http", httpSteps);
  const before = await databaseWork();
  const pollsBefore = benchPolls;
  // Where an execution's time goes under this load: the start request, then until Postgres has it done.
  const [startMs, runMs] = [[], []] as [number[], number[]];
  const oursHttp = await closedLoop(async (n) => {
    const began = performance.now();
    const id = await fleet.start(fleetHttp, n, { run: `t${n}` });
    const started = performance.now();
    await waitDone(id);
    startMs.push(started - began);
    runMs.push(performance.now() - started);
  });
  const after = await databaseWork();
  const workflows = await closedLoop(async (n) => {
    await peerWorkflow(peer.url, { target: targetUrl, run: `w${n}` }, 20);
  });
  // Per execution, for the capacity model (less the bench's own polling queries, each a commit).
  const polls = benchPolls - pollsBefore;
  const per = (key: keyof typeof before) =>
    ((after[key] - before[key] - (key === "commits" ? polls + 1 : 0)) / THROUGHPUT_RUNS).toFixed(1);
  report.push([
    "  Postgres work per 3-http-step execution",
    `${per("commits")} commits, ${per("written")} rows written (inserted + updated + deleted)`,
  ]);
  report.push([
    `throughput, 3 http steps (${THROUGHPUT_RUNS} runs, ${CONCURRENCY} in flight, polled)`,
    `ours ${oursHttp.toFixed(1)}/s, Cloudflare Workflows ${workflows.toFixed(1)}/s; ratio ${(oursHttp / workflows).toFixed(2)}×`,
  ]);
  report.push(["  ours: the start request (→ 202)", ms(summary(startMs))]);
  report.push(["  ours: 202 → completed in Postgres", ms(summary(runMs))]);
}

// 3b. Fan-out: one map step of MAP_ITEMS items, MAP_CONCURRENCY at a time (transform, then http),
// against a Cloudflare Workflow making the same number of step.do calls as many at a time.
if (MAP_ITEMS > 0) {
  const items = Array.from({ length: MAP_ITEMS }, (_, index) => index);
  for (const kind of ["transform", "http"] as const) {
    const inner =
      kind === "transform"
        ? { type: "transform", output: { item: "{{item}}" } }
        : { type: "http", request: { url: `${targetUrl}?run=map&item={{item}}` }, retry: { maxAttempts: 1 } };
    const mapWf = await workflow(`bench-map-${kind}`, [
      {
        id: "each",
        type: "map",
        items: "{{input.items}}",
        concurrency: MAP_CONCURRENCY,
        maxItems: MAP_ITEMS,
        step: inner,
      },
    ]);
    const began = performance.now();
    await startAndWait(mapWf, { items });
    const ours = performance.now() - began;
    let line = `ours ${(ours / 1000).toFixed(1)} s (${(ours / MAP_ITEMS).toFixed(2)} ms per item)`;
    if (peer) {
      const peerBegan = performance.now();
      await peerWorkflow(
        peer.url,
        { target: targetUrl, run: "map-peer", items: MAP_ITEMS, parallel: MAP_CONCURRENCY, fetch: kind === "http" },
        50,
      );
      const theirs = performance.now() - peerBegan;
      line += `, Cloudflare Workflows ${(theirs / 1000).toFixed(1)} s (${(theirs / MAP_ITEMS).toFixed(2)} ms per step.do); ratio ${(ours / theirs).toFixed(2)}×`;
    }
    report.push([`map of ${MAP_ITEMS} ${kind} items, ${MAP_CONCURRENCY} at a time: start → completed`, line]);
  }
}

// 4. One event to many viewers.
for (const count of VIEWERS) {
  const { fromApproval, fromEvent } = await fanOut(count);
  report.push([`approval request → ${count} WebSocket viewers`, ms(summary(fromApproval))]);
  report.push([`  delivery: the event's time → each viewer`, ms(summary(fromEvent))]);
}

// 5. Scale: SCALE executions at once, half waiting on a 30 s delay first, half running http steps.
if (SCALE > 0 && postgres) {
  const waitWf = await fleet.workflow("bench-scale-wait", [
    { id: "hold", type: "delay", seconds: 30 },
    {
      id: "after",
      type: "http",
      request: { url: `${targetUrl}?run=s{{input.n}}`, method: "GET" },
      dependsOn: ["hold"],
    },
  ]);
  const scaleHttp = await fleet.workflow("bench-scale-http", httpSteps);
  let peak = 0;
  const sampling = setInterval(async () => {
    const { rows } = await postgres.query(
      "select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name <> 'ipa-bench'",
    );
    peak = Math.max(peak, rows[0].n);
  }, 200);
  const scaleBegan = Date.now();
  let n = 0;
  const ids = await inBatches(SCALE, 50, () => {
    n += 1;
    return fleet.start(n % 2 ? waitWf : scaleHttp, n, { n, run: `scale${n}` });
  });
  const startedIn = (Date.now() - scaleBegan) / 1000;
  for (;;) {
    const { rows } = await postgres.query(
      "select count(*) filter (where status = 'completed')::int as done, count(*) filter (where status in ('failed', 'cancelled'))::int as bad, max(completed_at) as last from executions where id = any($1::uuid[])",
      [ids],
    );
    if (rows[0].bad > 0) throw new Error(`${rows[0].bad} scale executions did not complete`);
    if (rows[0].done === ids.length) {
      clearInterval(sampling);
      const seconds = (new Date(rows[0].last).getTime() - scaleBegan) / 1000;
      report.push([
        `scale: ${SCALE} executions (half with a 30 s delay)`,
        `started in ${startedIn.toFixed(1)} s, all completed in ${seconds.toFixed(1)} s; peak Postgres connections ${peak}`,
      ]);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

console.log("\nresults");
for (const [name, value] of report) console.log(`  ${name.padEnd(48)} ${value}`);
target.close();
await postgres?.query("drop table if exists bench_floor");
await postgres?.end();
await peer?.stop();
process.exit(0);

// -- helpers ----------------------------------------------------------------------------------------

/** Runs one Cloudflare Workflow of the peer (bench/peer/) to its end, polling every `pollMs`. */
async function peerWorkflow(peerUrl: string, params: Record<string, unknown>, pollMs: number): Promise<void> {
  const created = await fetch(`${peerUrl}/workflows`, { method: "POST", body: JSON.stringify(params) });
  const { id } = (await created.json()) as { id: string };
  for (;;) {
    const status = (await (await fetch(`${peerUrl}/workflows/${id}`)).json()) as { status: string };
    if (status.status === "complete") return;
    if (status.status === "errored" || status.status === "terminated")
      throw new Error(`workflow ${id} ${status.status}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

type LogEntry = Awaited<ReturnType<typeof logsOf>>[number];

async function workflow(name: string, steps: unknown[]): Promise<string> {
  return (await createWorkflow(api.client, `${name}-${Date.now()}`, steps)).id;
}

/** Starts one; a 429 from the per-user rate limit (600 a minute) waits a second and tries again. */
async function startExecution(
  workflowId: string,
  input: Record<string, unknown>,
  client: IpaClient = api.client,
): Promise<string> {
  for (;;) {
    try {
      return await startWith(client, workflowId, input);
    } catch (error) {
      if (!/: 429 /.test((error as Error).message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

function executionOf(id: string) {
  return answer("read execution", api.client.api.v1.executions[":id"].$get({ param: { id } }));
}

/**
 * Waits for an execution to end: from Postgres when the bench runs beside `npm run dev` (polling
 * the API would spend the per-user rate limit), else from the API.
 */
async function waitDone(id: string): Promise<{ status: string; completedAt: string | null; error: unknown }> {
  for (;;) {
    if (postgres) benchPolls++;
    const execution = postgres
      ? ((
          await postgres.query(
            "select status, to_json(completed_at) #>> '{}' as \"completedAt\", error from executions where id = $1",
            [id],
          )
        ).rows[0] ?? { status: "pending", completedAt: null, error: null })
      : await executionOf(id);
    if (["completed", "failed", "cancelled"].includes(execution.status)) {
      if (execution.status !== "completed")
        throw new Error(`execution ${id} ${execution.status}: ${JSON.stringify(execution.error)}`);
      return execution;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until an execution's step waits (Postgres has it), polling Postgres as waitDone does. */
async function waitWaiting(id: string): Promise<void> {
  for (;;) {
    const { rows } = (await postgres?.query(
      "select 1 from execution_steps where execution_id = $1 and status = 'waiting'",
      [id],
    )) ?? { rows: [] };
    if (rows.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function startAndWait(workflowId: string, input: Record<string, unknown>): Promise<string> {
  const id = await startExecution(workflowId, input);
  await waitDone(id);
  return id;
}

async function logsOf(id: string) {
  const page = await answer(
    "read logs",
    api.client.api.v1.executions[":id"].logs.$get({ param: { id }, query: { limit: "200" } }),
  );
  return page.items;
}

/** Time from each step's completion to the next step's start, from the execution's own events. */
function stepGaps(logs: LogEntry[], order: string[]): number[] {
  const at = (event: string, stepId: string) =>
    Date.parse(logs.find((l) => l.event === event && l.stepId === stepId)?.at ?? "");
  return order.slice(1).map((stepId, i) => at("step.started", stepId) - at("step.completed", order[i]));
}

async function createToDone(id: string): Promise<number> {
  const execution = await executionOf(id);
  return Date.parse(execution.completedAt ?? "") - Date.parse(execution.createdAt);
}

/**
 * Opens `count` viewers on a waiting execution, approves it, and times the event's arrival at each:
 * from the approval request (the API's work included), and from the event's own time (delivery).
 */
async function fanOut(count: number): Promise<{ fromApproval: number[]; fromEvent: number[] }> {
  const gateWf = await workflow("bench-fanout", [{ id: "gate", type: "approval" }]);
  const id = await startExecution(gateWf, {});
  for (;;) {
    const { steps } = await executionOf(id);
    if (steps[0]?.status === "waiting") break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  let turn = 0;
  const tickets = await inBatches(count, 50, () =>
    streamTicket(watchers.users[turn++ % watchers.users.length].client, id),
  );
  const wsBase = api.baseUrl.replace(/^http/, "ws");
  let sentAt = 0;
  const sockets: WebSocket[] = [];
  const received: Array<Promise<[number, number]>> = [];
  // Viewers join in batches (each join redeems a ticket in Postgres), then all wait for one event.
  for (let i = 0; i < tickets.length; i += 50) {
    const joined = tickets.slice(i, i + 50).map((ticket) => {
      const socket = new WebSocket(`${wsBase}/api/v1/executions/${id}/stream?ticket=${ticket}`);
      sockets.push(socket);
      let seenSnapshot: () => void = () => {};
      const snapshot = new Promise<void>((resolve) => (seenSnapshot = resolve));
      received.push(
        new Promise<[number, number]>((resolve, reject) => {
          socket.onmessage = (message) => {
            const data = JSON.parse(String(message.data));
            if (data.type === "snapshot") seenSnapshot();
            if (data.type === "event" && data.event === "step.completed") {
              const now = performance.timeOrigin + performance.now();
              resolve([now - sentAt, now - Date.parse(data.at)]);
            }
          };
          socket.onerror = () => reject(new Error("a viewer's connection failed"));
        }),
      );
      return snapshot;
    });
    await Promise.all(joined);
  }
  sentAt = performance.timeOrigin + performance.now();
  await approveStep(api.client, id, "gate");
  const latencies = await Promise.all(received);
  for (const socket of sockets) socket.close();
  return { fromApproval: latencies.map(([a]) => a), fromEvent: latencies.map(([, e]) => e) };
}

/**
 * Bench users (role user, created through the admin API): many clients, as a platform has, so
 * that the per-user rate limit measures nobody's throughput. Each owns its copy of a workflow.
 */
async function benchFleet(count: number, role: "user" | "viewer") {
  const stamp = Date.now();
  const users: Array<{ id: string; token: string; client: IpaClient }> = [];
  for (let i = 0; i < count; i++) {
    const email = `bench-${stamp}-${role}-${i}@example.test`;
    const password = `bench-password-${stamp}`;
    await answer(
      "create a bench user",
      api.client.api.v1.users.$post({ json: { email, username: `bench${stamp}${role}${i}`, password, roles: [role] } }),
    );
    const session = await answer(
      "bench user login",
      createClient(api.baseUrl).api.v1.auth.login.$post({ json: { email, password } }),
    );
    const token = session.accessToken;
    users.push({
      id: session.user.id,
      token,
      client: createClient(api.baseUrl, { headers: { authorization: `Bearer ${token}` } }),
    });
  }
  return {
    users,
    /** The workflow, once per user: its ids in user order. */
    workflow: (name: string, steps: unknown[]) =>
      Promise.all(users.map(async ({ client }) => (await createWorkflow(client, `${name}-${Date.now()}`, steps)).id)),
    /** Start number `n` goes to user n mod count, on that user's copy. */
    start: (workflowIds: string[], n: number, input: Record<string, unknown>) =>
      startExecution(workflowIds[n % count], input, users[n % count].client),
  };
}

/** The database's commit and row-write counters (pg_stat_database). */
async function databaseWork(): Promise<{ commits: number; written: number }> {
  if (!postgres) return { commits: 0, written: 0 };
  // The statistics collector flushes about once a second.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const { rows } = await postgres.query(
    "select xact_commit::float8 as commits, (tup_inserted + tup_updated + tup_deleted)::float8 as written from pg_stat_database where datname = current_database()",
  );
  return { commits: Number(rows[0].commits), written: Number(rows[0].written) };
}

async function timed(request: () => Promise<Response>): Promise<number> {
  const began = performance.now();
  const res = await request();
  await res.text();
  if (!res.ok) throw new Error(`bench request answered ${res.status}`);
  return performance.now() - began;
}

/** Requests per second from 10 clients sending back to back for 5 s. */
async function rate(request: () => Promise<Response>): Promise<number> {
  const until = Date.now() + 5_000;
  let done = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (Date.now() < until) {
        await (await request()).text();
        done++;
      }
    }),
  );
  return done / 5;
}

/**
 * An open-loop load: `perSecond` requests a second for LOAD_SECONDS whether or not earlier ones
 * have answered (a closed loop would slow down with the server and hide its queueing). Written
 * here rather than with a load tool so both targets share the bench's users and timing.
 */
async function load(request: () => Promise<Response>, perSecond: number) {
  const latencies: number[] = [];
  let errors = 0;
  let serverErrors = 0;
  const began = performance.now();
  const inFlight: Array<Promise<void>> = [];
  for (let i = 0; i < perSecond * LOAD_SECONDS; i++) {
    const due = began + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(
      request().then(
        async (res) => {
          await res.text();
          latencies.push(performance.now() - due);
          if (!res.ok) errors++;
          if (res.status >= 500) serverErrors++;
        },
        () => {
          errors++;
        },
      ),
    );
  }
  await Promise.all(inFlight);
  return { latency: summary(latencies), errors, serverErrors };
}

/** Runs THROUGHPUT_RUNS jobs, CONCURRENCY at a time; answers jobs per second. */
async function closedLoop(job: (n: number) => Promise<void>): Promise<number> {
  let n = 0;
  const began = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (n < THROUGHPUT_RUNS) await job(n++);
    }),
  );
  return THROUGHPUT_RUNS / ((Date.now() - began) / 1000);
}

/** The target's arrival times for `run`, once `count` have arrived. */
async function arrivalsOf(run: string, count: number): Promise<number[]> {
  for (let i = 0; i < 500; i++) {
    const seen = arrivals.get(run) ?? [];
    if (seen.length >= count) return seen;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`run ${run} reached the target ${(arrivals.get(run) ?? []).length} times`);
}

async function inBatches<T>(count: number, size: number, make: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i += size)
    out.push(...(await Promise.all(Array.from({ length: Math.min(size, count - i) }, make))));
  return out;
}
