/**
 * `npm run bench`: measures the running platform (`npm run dev`, or IPA_URL) from outside, as a
 * client sees it. Prints medians with p99 for step-to-step latency (transform and http), create-to-
 * done time, executions per second at a stated concurrency, and the delivery latency of one event
 * to 200 and 1,000 WebSocket viewers.
 *
 *   ADMIN_EMAIL=… ADMIN_PASSWORD=… npm run bench [-- --runs 30 --concurrency 10 --throughput 200]
 *
 * The http workflow calls a server this script starts on 127.0.0.1, which the platform must be
 * allowed to reach (`npm run dev` allows loopback unless HTTP_STEP_ALLOWLIST is set).
 */
import { createServer } from "node:http";
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import {
  answer,
  approveStep,
  connectApi,
  createWorkflow,
  startExecution as startWith,
  streamTicket,
} from "./lib/api-client.ts";
import { summary } from "./lib/stats.ts";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "30" },
    concurrency: { type: "string", default: "10" },
    throughput: { type: "string", default: "200" },
    viewers: { type: "string", default: "200,1000" },
  },
});
const RUNS = Number(args.runs);
const CONCURRENCY = Number(args.concurrency);
const THROUGHPUT_RUNS = Number(args.throughput);
const VIEWERS = String(args.viewers).split(",").map(Number);

const api = await connectApi();
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

// 1. Three transform steps.
const transformWf = await workflow(
  "bench-transform",
  [0, 1, 2].map((i) => ({
    id: `t${i}`,
    type: "transform",
    output: { step: i, prev: i ? `{{steps.t${i - 1}.output.step}}` : "{{input.n}}" },
    dependsOn: i ? [`t${i - 1}`] : [],
  })),
);
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
const httpWf = await workflow(
  "bench-http",
  [0, 1, 2].map((i) => ({
    id: `h${i}`,
    type: "http",
    request: { url: `${targetUrl}?run={{input.run}}&step=${i}`, method: "GET" },
    dependsOn: i ? [`h${i - 1}`] : [],
  })),
);
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

// 3. Throughput: THROUGHPUT_RUNS transform executions, CONCURRENCY starts in flight at a time.
const ids: string[] = [];
let next = 0;
const began = Date.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < THROUGHPUT_RUNS) {
      next++;
      ids.push(await startExecution(transformWf, { n: next }));
    }
  }),
);
const finished = await Promise.all(ids.map((id) => waitDone(id)));
const lastDone = Math.max(...finished.map((e) => Date.parse(e.completedAt ?? "")));
const seconds = (lastDone - began) / 1000;
report.push([
  `throughput (${THROUGHPUT_RUNS} runs, ${CONCURRENCY} concurrent starts)`,
  `${(THROUGHPUT_RUNS / seconds).toFixed(1)} executions/s`,
]);

// 4. One event to many viewers.
for (const count of VIEWERS) {
  const latencies = await fanOut(count);
  report.push([`one event → ${count} WebSocket viewers`, ms(summary(latencies))]);
}

console.log("\nresults");
for (const [name, value] of report) console.log(`  ${name.padEnd(48)} ${value}`);
target.close();
process.exit(0);

// -- helpers ----------------------------------------------------------------------------------------

type Execution = Awaited<ReturnType<typeof executionOf>>;
type LogEntry = Awaited<ReturnType<typeof logsOf>>[number];

async function workflow(name: string, steps: unknown[]): Promise<string> {
  return (await createWorkflow(api.client, `${name}-${Date.now()}`, steps)).id;
}

function startExecution(workflowId: string, input: Record<string, unknown>): Promise<string> {
  return startWith(api.client, workflowId, input);
}

function executionOf(id: string) {
  return answer("read execution", api.client.api.v1.executions[":id"].$get({ param: { id } }));
}

async function waitDone(id: string): Promise<Execution> {
  for (;;) {
    const execution = await executionOf(id);
    if (["completed", "failed", "cancelled"].includes(execution.status)) {
      if (execution.status !== "completed")
        throw new Error(`execution ${id} ${execution.status}: ${JSON.stringify(execution.error)}`);
      return execution;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
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

/** Opens `count` viewers on a waiting execution, approves it, and times the event's arrival. */
async function fanOut(count: number): Promise<number[]> {
  const gateWf = await workflow("bench-fanout", [{ id: "gate", type: "approval" }]);
  const id = await startExecution(gateWf, {});
  for (;;) {
    const { steps } = await executionOf(id);
    if (steps[0]?.status === "waiting") break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const tickets = await inBatches(count, 50, () => streamTicket(api.client, id));
  const wsBase = api.baseUrl.replace(/^http/, "ws");
  let sentAt = 0;
  const sockets: WebSocket[] = [];
  const received: Array<Promise<number>> = [];
  // Viewers join in batches (each join redeems a ticket in Postgres), then all wait for one event.
  for (let i = 0; i < tickets.length; i += 50) {
    const joined = tickets.slice(i, i + 50).map((ticket) => {
      const socket = new WebSocket(`${wsBase}/api/v1/executions/${id}/stream?ticket=${ticket}`);
      sockets.push(socket);
      let seenSnapshot: () => void = () => {};
      const snapshot = new Promise<void>((resolve) => (seenSnapshot = resolve));
      received.push(
        new Promise<number>((resolve, reject) => {
          socket.onmessage = (message) => {
            const data = JSON.parse(String(message.data));
            if (data.type === "snapshot") seenSnapshot();
            if (data.type === "event" && data.event === "step.completed")
              resolve(performance.timeOrigin + performance.now() - sentAt);
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
  return latencies;
}

async function inBatches<T>(count: number, size: number, make: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i += size)
    out.push(...(await Promise.all(Array.from({ length: Math.min(size, count - i) }, make))));
  return out;
}
