/**
 * `npm run soak`: the execution engine under faults. Starts its own `npm run dev` (own data
 * directory and port, with FAULT_INJECTION and a relay it can cut), runs executions that mix http,
 * agent (built-in provider), approval, event, delay and condition steps, and one map of 200 slow
 * http items (10 at a time) that the kill interrupts, and meanwhile injects:
 * consumer failures after a step ran (reports that fail, consumers that die), the Postgres relay
 * cut for 30 s, a deploy-like reset of every object (the runtime reloads the Worker, as a deploy
 * does), and one kill -9 of the whole local stack followed by a restart. Then it checks:
 * executions finished / lost / stuck, what the outside world saw (each completed http step's
 * effect arrived under exactly one key, its own, and no key arrived for a step that did not
 * complete), Postgres rows equal to each object's final state, time to drain, how soon every
 * in-flight execution resumed after the restart, and the invariant repairs the watchdog made.
 *
 *   npm run soak [-- --executions 1000 --concurrency 16 --outage-seconds 30 --timeout-minutes 30 --map-items 200]
 */
import { randomBytes } from "node:crypto";
import { readFile, rm, utimes } from "node:fs/promises";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import WebSocket from "ws";
import { answer, approveStep, createWorkflow, sendEvent, startExecution, streamTicket } from "./lib/api-client.ts";
import { connectStack, type DevStack, startDevStack } from "./lib/dev-stack.ts";
import { freePort, isPortFree } from "./lib/ports.ts";
import { stageClock } from "./lib/stages.ts";
import { summary } from "./lib/stats.ts";

const { values: args } = parseArgs({
  options: {
    executions: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "16" },
    "outage-seconds": { type: "string", default: "30" },
    "timeout-minutes": { type: "string", default: "30" },
    "map-items": { type: "string", default: "200" },
  },
});
/** The items of the one map execution the kill -9 interrupts. */
const MAP_ITEMS = Number(args["map-items"]);
const TOTAL = Number(args.executions);
const CONCURRENCY = Number(args.concurrency);
const OUTAGE_MS = Number(args["outage-seconds"]) * 1000;
const DEADLINE = Date.now() + Number(args["timeout-minutes"]) * 60_000;
const DATA = fileURLToPath(new URL("../.data/soak", import.meta.url));
const admin = { email: "soak@example.com", password: randomBytes(12).toString("base64url") };
const FAULTS = { reportFailureRate: 0.05, crashAfterRunRate: 0.02 };
const stage = stageClock();

// -- the outside world: an API that does its side effect once per Idempotency-Key ---------------
// Each request names its execution and step in its path, so the world can tell a step that ran
// twice under two keys (two effects) from one sent twice under one key (one effect).
const requestsByKey = new Map<string, number>();
const keysByStep = new Map<string, Set<string>>();
const target = createServer((req, res) => {
  const key = String(req.headers["idempotency-key"] ?? "");
  requestsByKey.set(key, (requestsByKey.get(key) ?? 0) + 1);
  const [, , executionId, stepId] = (req.url ?? "").split("?")[0].split("/");
  // A map item names itself `<map>-item-<index>`: its sub-step is `<map>[<index>]`.
  const step = `${executionId}/${stepId.replace(/^(.+)-item-(\d+)$/, "$1[$2]")}`;
  keysByStep.set(step, (keysByStep.get(step) ?? new Set()).add(key));
  // Slow answers and long delays keep many executions in flight when the stack is killed.
  const delay = req.url?.includes("slow") ? 1500 : 5;
  setTimeout(
    () => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, key })),
    delay,
  );
});
await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
const targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}`;

await rm(DATA, { recursive: true, force: true });
const port = await freePort(19500);
const stackEnv = {
  FAULT_INJECTION: JSON.stringify(FAULTS),
  IPA_RELAY_CONTROL: "1",
  HTTP_STEP_ALLOWLIST: "127.0.0.1,localhost",
};
stage.start(`starting npm run dev (FAULT_INJECTION ${JSON.stringify(FAULTS)}; its output goes to .data/soak-dev.log)`);
const logFile = `${DATA}-dev.log`;
await rm(logFile, { force: true });
let stack: DevStack = await startDevStack({ dataDir: DATA, admin, port, env: stackEnv, logFile });
process.on("exit", () => void stack.kill());
let { client } = await connectStack(stack, admin);
const db = new pg.Client({ connectionString: (await stack.postgresUrl()).replace(/\/postgres$/, "/ipa") });
await db.connect();
db.on("error", () => {});

// -- the workflows ------------------------------------------------------------------------------
stage.start("creating workflows and an agent");
const agent = await answer(
  "create agent",
  client.api.v1.agents.$post({
    json: {
      name: `soak-${Date.now()}`,
      type: "custom",
      modelName: "builtin-echo",
      configuration: { provider: "builtin" },
    },
  }),
);
const KINDS = {
  chain: [
    {
      id: "call",
      type: "http",
      request: { url: `${targetUrl}/a/{{execution.id}}/call`, method: "POST", body: { n: "{{input.n}}" } },
    },
    {
      id: "check",
      type: "condition",
      if: "steps.call.output.status == 200",
      then: ["next"],
      else: ["note"],
      dependsOn: ["call"],
    },
    { id: "next", type: "http", request: { url: `${targetUrl}/b-slow/{{execution.id}}/next` }, dependsOn: ["check"] },
    { id: "note", type: "transform", output: "unexpected", dependsOn: ["check"] },
  ],
  agent: [
    { id: "ask", type: "agent", agentId: agent.id, prompt: "Summarize item {{input.n}}" },
    { id: "shape", type: "transform", output: { text: "{{steps.ask.output.text}}" }, dependsOn: ["ask"] },
  ],
  approval: [
    { id: "review", type: "approval" },
    { id: "ship", type: "http", request: { url: `${targetUrl}/c/{{execution.id}}/ship` }, dependsOn: ["review"] },
  ],
  event: [
    { id: "go", type: "event", event: "go", timeoutSeconds: 3600 },
    { id: "act", type: "http", request: { url: `${targetUrl}/d/{{execution.id}}/act` }, dependsOn: ["go"] },
  ],
  map: [
    {
      id: "each",
      type: "map",
      items: "{{input.items}}",
      concurrency: 10,
      step: {
        type: "http",
        request: { url: `${targetUrl}/m-slow/{{execution.id}}/each-item-{{index}}`, method: "POST" },
      },
    },
  ],
  delay: [
    { id: "nap", type: "delay", seconds: 20 },
    { id: "wake", type: "http", request: { url: `${targetUrl}/e-slow/{{execution.id}}/wake` }, dependsOn: ["nap"] },
  ],
} as const;
type Kind = keyof typeof KINDS;
const MIX: Array<[Kind, number]> = [
  ["chain", 0.3],
  ["agent", 0.15],
  ["approval", 0.2],
  ["event", 0.15],
  ["delay", 0.2],
];
const workflowIds = {} as Record<Kind, string>;
for (const kind of Object.keys(KINDS) as Kind[]) {
  workflowIds[kind] = (await createWorkflow(client, `soak-${kind}-${Date.now()}`, KINDS[kind])).id;
}

// -- the run ------------------------------------------------------------------------------------
const executions: Array<{ id: string; kind: Kind }> = [];
const plan: Kind[] = MIX.flatMap(([kind, share]) =>
  Array.from({ length: Math.round(TOTAL * share) }, () => kind),
).slice(0, TOTAL);
const started = Date.now();
stage.start(`starting ${plan.length} executions, ${CONCURRENCY} at a time`);
let next = 0;
let startErrors = 0;
const starting = Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < plan.length) {
      const index = next++;
      const kind = plan[index];
      for (let tries = 0; ; tries++) {
        const id = await startExecution(client, workflowIds[kind], { n: index }, `soak-${index}`).catch(() => null);
        if (id) {
          executions.push({ id, kind });
          // Half the events are sent before their step waits (buffered), half after.
          if (kind === "event" && index % 2 === 0) void sendEvent(client, id, "go", { early: true }).catch(() => {});
          break;
        }
        if (tries > 30) {
          startErrors++;
          break;
        }
        await sleep(1000);
      }
    }
  }),
);

// People and outside systems act on the waiting ones, slowly; a third of them only after the
// restart, so many still wait on people when the stack is killed.
const decided = new Set<string>();
const sentEvents = new Set<string>();
let actorsOn = true;
const actors = (async () => {
  while (actorsOn) {
    await sleep(3000);
    if (Date.now() - started < 40_000) continue;
    const waiting = await db
      .query<{ execution_id: string; step_id: string; reason: string }>(
        `select s.execution_id, s.step_id, s.waiting->>'reason' as reason from execution_steps s join executions e on e.id = s.execution_id
         where s.status = 'waiting' and s.waiting->>'reason' in ('approval', 'event') and (e.input->>'n')::int % 3 <> 0 limit 60`,
      )
      .catch(() => ({ rows: [] }));
    for (const row of waiting.rows) {
      const key = `${row.execution_id}:${row.step_id}`;
      if (row.reason === "approval" && !decided.has(key)) {
        decided.add(key);
        void approveStep(client, row.execution_id, row.step_id).catch(() => decided.delete(key));
      } else if (row.reason === "event" && !sentEvents.has(key)) {
        sentEvents.add(key);
        void sendEvent(client, row.execution_id, "go", { late: true }).catch(() => sentEvents.delete(key));
      }
    }
  }
})();

// Fault 1: the database goes away for OUTAGE_MS.
await sleep(15_000);
const control = await stack.relayControlUrl();
stage.start(`cutting the Postgres relay for ${OUTAGE_MS / 1000} s`);
await fetch(`${control}/down`, { method: "POST" });
await sleep(OUTAGE_MS);
await fetch(`${control}/up`, { method: "POST" });
stage.start("relay back up");

// Fault 2: a deploy-like reset. A deploy resets every object of the Worker, whatever it is doing;
// locally, the runtime reloads the Worker (and resets its objects) when its code changes.
await sleep(10_000);
stage.start("a deploy-like reset: the runtime reloads the Worker, every object reset");
const touched = new Date();
await utimes(fileURLToPath(new URL("../src/index.ts", import.meta.url)), touched, touched);
const reloadedAfter = await waitForReload(logFile, touched.getTime());
stage.start(
  `the Worker reloaded (${reloadedAfter === null ? "no reload seen in the log" : `${(reloadedAfter / 1000).toFixed(1)} s`})`,
);

// Fault 3: power loss, with half the executions started and the rest still being started (their
// starts are retried with the same Idempotency-Key). Everything in flight at that moment must
// resume within 60 s of the restart.
while (executions.length < plan.length / 2) await sleep(500);
// A map of MAP_ITEMS slow http items (10 at a time), killed part-way through.
const mapId = await startExecution(
  client,
  workflowIds.map,
  { items: Array.from({ length: MAP_ITEMS }, (_, i) => i) },
  "soak-map",
);
executions.push({ id: mapId, kind: "map" });
let mapDoneAtKill = 0;
for (let i = 0; i < 120; i++) {
  const done = await db.query<{ n: number }>(
    "select count(*)::int as n from execution_steps where execution_id = $1 and container_step_id = 'each' and status = 'completed'",
    [mapId],
  );
  mapDoneAtKill = done.rows[0]?.n ?? 0;
  if (mapDoneAtKill >= MAP_ITEMS / 5) break;
  await sleep(500);
}
await sleep(5_000);
const atKill = await db.query<{ id: string; status: string; last_seq: string; human: boolean }>(
  `select e.id, e.status, e.last_seq,
     not exists (select 1 from execution_steps s where s.execution_id = e.id and s.status in ('pending', 'running')
                 and not (s.status = 'pending' and exists (select 1 from execution_steps w where w.execution_id = e.id
                   and w.status = 'waiting' and w.waiting->>'reason' in ('approval', 'event'))))
     and exists (select 1 from execution_steps w where w.execution_id = e.id and w.status = 'waiting' and w.waiting->>'reason' in ('approval', 'event')) as human
   from executions e where e.id = any($1) and e.status not in ('completed', 'failed', 'cancelled')`,
  [executions.map((e) => e.id)],
);
const inFlight = atKill.rows.filter((row) => !row.human);
stage.start(
  `kill -9 of the whole stack: ${atKill.rows.length} executions not ended (${inFlight.length} with work in flight, ${atKill.rows.length - inFlight.length} waiting on people or events)`,
);
actorsOn = false;
await actors;
await db.end();
const postgresPort = Number(new URL(await stack.postgresUrl()).port);
await stack.kill();
// A killed postmaster lingers (a zombie until it is reaped) and a new one refuses its data
// directory meanwhile; wait for it and for its port.
const oldPostmaster = Number(
  (await readFile(`${DATA}/postgres/postmaster.pid`, "utf8").catch(() => "0")).split("\n")[0],
);
for (let i = 0; i < 120 && (isAlive(oldPostmaster) || !(await isPortFree(postgresPort))); i++) await sleep(500);
stage.start("restarting npm run dev on the same data");
stack = await startDevStack({ dataDir: DATA, admin, port, env: stackEnv, readySeconds: 300, logFile });
const readyAt = Date.now();
({ client } = await connectStack(stack, admin));
const db2 = new pg.Client({ connectionString: (await stack.postgresUrl()).replace(/\/postgres$/, "/ipa") });
await db2.connect();
db2.on("error", () => {});

const resumedAfter = new Map<string, number>();
const seqAtKill = new Map(inFlight.map((row) => [row.id, Number(row.last_seq)]));
let watching = true;
// Resumption is watched from the moment the stack is ready: an execution resumed when its log grew.
const watcher = (async () => {
  while (watching && resumedAfter.size < seqAtKill.size) {
    const rows = await db2
      .query<{ id: string; last_seq: string }>("select id, last_seq from executions where id = any($1)", [
        [...seqAtKill.keys()],
      ])
      .catch(() => ({ rows: [] }));
    for (const row of rows.rows) {
      const before = seqAtKill.get(row.id) ?? 0;
      if (!resumedAfter.has(row.id) && Number(row.last_seq) > before) resumedAfter.set(row.id, Date.now() - readyAt);
    }
    await sleep(500);
  }
})();
actorsOn = true;
const actorsAgain = (async () => {
  while (actorsOn) {
    await sleep(3000);
    const waiting = await db2
      .query<{ execution_id: string; step_id: string; reason: string }>(
        "select execution_id, step_id, waiting->>'reason' as reason from execution_steps where status = 'waiting' and waiting->>'reason' in ('approval', 'event') limit 80",
      )
      .catch(() => ({ rows: [] }));
    for (const row of waiting.rows) {
      await (row.reason === "approval"
        ? approveStep(client, row.execution_id, row.step_id)
        : sendEvent(client, row.execution_id, "go", { late: true })
      ).catch(() => {});
    }
  }
})();

await starting;
stage.start(`all ${executions.length} started; draining`);
for (;;) {
  const rows = await db2.query<{ id: string; status: string; last_seq: string }>(
    "select id, status, last_seq from executions where id = any($1)",
    [executions.map((e) => e.id)],
  );
  const open = rows.rows.filter((row) => !["completed", "failed", "cancelled"].includes(row.status)).length;
  if (open === 0 || Date.now() > DEADLINE) break;
  stage.progress(`${rows.rows.length - open}/${executions.length} ended`);
  await sleep(2000);
}
const drainedMs = Date.now() - started;
watching = false;
await watcher;
actorsOn = false;
await actorsAgain;

// -- the verdict --------------------------------------------------------------------------------
stage.start("checking every execution against its object");
const final = await db2.query<{ id: string; status: string; last_seq: string; output: unknown }>(
  "select id, status, last_seq, output from executions where id = any($1)",
  [executions.map((e) => e.id)],
);
const byStatus = new Map<string, number>();
for (const row of final.rows) byStatus.set(row.status, (byStatus.get(row.status) ?? 0) + 1);
const lost = executions.length - final.rows.length + startErrors;
const stuck = final.rows.filter((row) => !["completed", "failed", "cancelled"].includes(row.status));
const failures = await db2.query<{ reason: string; n: string }>(
  "select error->>'reason' as reason, count(*) as n from executions where id = any($1) and status = 'failed' group by 1",
  [executions.map((e) => e.id)],
);
const failedSteps = await db2.query<{ step_id: string; attempt: number; error: unknown }>(
  "select step_id, attempt, error from execution_steps where execution_id = any($1) and status = 'failed' limit 5",
  [executions.map((e) => e.id)],
);
const httpSteps = await db2.query<{ execution_id: string; step_id: string; idempotency_key: string }>(
  "select execution_id, step_id, idempotency_key from execution_steps where execution_id = any($1) and step_type = 'http' and status = 'completed'",
  [executions.map((e) => e.id)],
);
// What the world saw: the keys each completed step's requests carried (one, its own, each time).
const completedSteps = new Map(
  httpSteps.rows.map((row) => [`${row.execution_id}/${row.step_id}`, row.idempotency_key]),
);
const effects = httpSteps.rows.map((row) => keysByStep.get(`${row.execution_id}/${row.step_id}`)?.size ?? 0);
const foreignKeys = httpSteps.rows.filter((row) => {
  const keys = keysByStep.get(`${row.execution_id}/${row.step_id}`) ?? new Set();
  return [...keys].some((key) => key !== row.idempotency_key);
}).length;
// Keys that reached the world for a step that never completed: an effect nobody accounts for.
const strays = [...keysByStep.keys()].filter((step) => !completedSteps.has(step)).length;
const requests = httpSteps.rows.map((row) => requestsByKey.get(row.idempotency_key) ?? 0);
const repairs = await repairCounts(stack.url);
const mapFinal = await db2.query<{ status: string; count: number; distinct_keys: number }>(
  `select e.status, (select count(*)::int from execution_steps s where s.execution_id = e.id and s.container_step_id = 'each' and s.status = 'completed') as count,
          (select count(distinct s.idempotency_key)::int from execution_steps s where s.execution_id = e.id and s.container_step_id = 'each') as distinct_keys
   from executions e where e.id = $1`,
  [mapId],
);
const mapItemEffects = [...Array(MAP_ITEMS).keys()].map((i) => keysByStep.get(`${mapId}/each[${i}]`)?.size ?? 0);
const mismatches = await compareWithObjects(final.rows);

const resumeTimes = [...resumedAfter.values()];
const notResumed = inFlight.filter((row) => !resumedAfter.has(row.id) || (resumedAfter.get(row.id) ?? 0) > 60_000);
console.log(`
== soak: ${executions.length} executions (${MIX.map(([kind, share]) => `${kind} ${Math.round(share * 100)}%`).join(", ")})
faults: reports failing ${FAULTS.reportFailureRate * 100}%, consumers dying after a step ${FAULTS.crashAfterRunRate * 100}%, relay cut ${OUTAGE_MS / 1000} s, a deploy-like reset of every object, one kill -9 + restart
ended: ${[...byStatus].map(([status, n]) => `${status} ${n}`).join(", ")}; lost ${lost}; stuck ${stuck.length}
failed by reason: ${failures.rows.map((row) => `${row.reason} ${row.n}`).join(", ") || "none"}${failedSteps.rows.length ? `; e.g. ${failedSteps.rows.map((row) => `${row.step_id} attempt ${row.attempt}: ${JSON.stringify(row.error)}`).join(" | ")}` : ""}
completed http steps: ${httpSteps.rows.length}; distinct keys the world saw per step: ${histogram(effects)}; steps that saw a key not their own: ${foreignKeys}; keys for steps that never completed: ${strays}; requests per key: ${histogram(requests)}
invariant repairs by the watchdog: ${
  Object.entries(repairs.repairs)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(", ") || "none"
}; timer failures re-armed: ${
  Object.entries(repairs.timerFailures)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(", ") || "none"
}
Postgres equal to the object's final state: ${final.rows.length - mismatches.length}/${final.rows.length}${mismatches.length ? ` (first: ${JSON.stringify(mismatches[0])})` : ""}
after the restart (ready ${((readyAt - started) / 1000).toFixed(0)} s into the run): ${inFlight.length} in flight, ${atKill.rows.length - inFlight.length} waiting on people; resumed p50 ${fmt(resumeTimes, 50)} s, max ${fmt(resumeTimes, 100)} s; not resumed within 60 s: ${notResumed.length}
time to drain: ${(drainedMs / 1000).toFixed(0)} s
map of ${MAP_ITEMS} http items across the kill (${mapDoneAtKill} completed when killed): ${mapFinal.rows[0]?.status}, ${mapFinal.rows[0]?.count}/${MAP_ITEMS} items completed, ${mapFinal.rows[0]?.distinct_keys} distinct item keys; distinct keys the world saw per item: ${histogram(mapItemEffects)}
`);
await db2.end();
await stack.stop();
target.close();
process.exit(
  lost + stuck.length + mismatches.length + notResumed.length + foreignKeys + strays === 0 &&
    effects.every((n) => n === 1) &&
    mapFinal.rows[0]?.status === "completed" &&
    mapItemEffects.every((n) => n === 1)
    ? 0
    : 1,
);

// -- helpers ------------------------------------------------------------------------------------

/** Waits for the runtime to say it reloaded the Worker (wrangler's log); ms after `since`, or null. */
async function waitForReload(file: string, since: number): Promise<number | null> {
  const before = (await readFile(file, "utf8").catch(() => "")).split("\n").length;
  for (let i = 0; i < 120; i++) {
    await sleep(500);
    const lines = (await readFile(file, "utf8").catch(() => "")).split("\n").slice(before - 1);
    if (lines.some((line) => /reload/i.test(line))) return Date.now() - since;
  }
  return null;
}

/** The watchdog's repairs and the objects' re-armed timers, as the metrics count them. */
async function repairCounts(baseUrl: string) {
  const token = (
    await (
      await fetch(`${baseUrl}/api/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(admin),
      })
    ).json()
  ).accessToken;
  const text = await (await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  const counted = (metric: string, label: string) =>
    Object.fromEntries(
      [...text.matchAll(new RegExp(`^${metric}\\{${label}="([a-z_]+)"\\} (\\d+)$`, "gm"))].map((m) => [
        m[1],
        Number(m[2]),
      ]),
    );
  return {
    repairs: counted("ipa_invariant_repairs_total", "kind"),
    timerFailures: counted("ipa_timer_failures_total", "timer"),
  };
}

/** Opens each execution's stream and compares its snapshot with the Postgres row. */
async function compareWithObjects(rows: Array<{ id: string; status: string; last_seq: string; output: unknown }>) {
  const mismatched: Array<Record<string, unknown>> = [];
  let index = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (index < rows.length) {
        const row = rows[index++];
        const ticket = await streamTicket(client, row.id);
        const snapshot = await firstMessage(
          `${stack.url.replace("http", "ws")}/api/v1/executions/${row.id}/stream?ticket=${ticket}`,
        );
        const same =
          snapshot?.execution?.status === row.status &&
          snapshot.seq === Number(row.last_seq) &&
          canonical(snapshot.execution.output ?? null) === canonical(row.output ?? null);
        if (!same)
          mismatched.push({
            id: row.id,
            postgres: { status: row.status, seq: row.last_seq },
            object: { status: snapshot?.execution?.status, seq: snapshot?.seq },
          });
      }
    }),
  );
  return mismatched;
}

interface SnapshotMessage {
  seq: number;
  execution: { status: string; output: unknown };
}

function firstMessage(url: string): Promise<SnapshotMessage | null> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    const timer = setTimeout(() => {
      socket.terminate();
      resolve(null);
    }, 10_000);
    socket.on("message", (data) => {
      clearTimeout(timer);
      socket.close();
      resolve(JSON.parse(String(data)));
    });
    socket.on("error", () => resolve(null));
  });
}

/** JSON with sorted keys: Postgres's jsonb does not keep key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object")
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(",")}}`;
  return JSON.stringify(value);
}

function histogram(values: number[]): string {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return (
    [...counts]
      .sort((a, b) => a[0] - b[0])
      .map(([value, n]) => `${value}×${n}`)
      .join(", ") || "none"
  );
}

function fmt(values: number[], p: number): string {
  if (values.length === 0) return "-";
  const s = summary(values);
  return ((p === 100 ? s.max : s.p50) / 1000).toFixed(1);
}

function isAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
