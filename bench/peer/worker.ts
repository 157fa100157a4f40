/**
 * The bench's peers (`npm run bench` starts this Worker with `wrangler dev` beside the platform, in
 * the same local runtime, against the same Postgres through the same relay):
 *
 * - `GET /bare/workflows?owner=<id>`: the platform's own workflow list (its service function, so
 *   the same query and the same page) through the same Neon driver and drizzle, with no
 *   authentication or middleware — the floor an authenticated list is compared with.
 * - `POST /workflows` and `GET /workflows/:id`: a Cloudflare Workflow of three `step.do` steps,
 *   each calling the bench's target like an http step — the peer for executions per second; with
 *   `items` and `parallel`, `items` `step.do` calls, `parallel` at a time, each calling the target
 *   (`fetch: true`) or computing its value — the peer of a map step.
 * - `POST /floor`: three queue hops, each consumer writing one Postgres row and calling the target
 *   — the raw floor under an http step's step-to-step time.
 */
import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { Hono } from "hono";
import type { AuthenticatedUser } from "../../src/auth/principal";
import { openDatabase } from "../../src/db/client";
import { listWorkflows } from "../../src/services/workflows";

interface PeerEnv {
  DATABASE_URL: string;
  NEON_WS_PROXY?: string;
  BENCH_WORKFLOW: Workflow<BenchParams>;
  FLOOR_QUEUE: Queue<{ target: string; run: string; hop: number }>;
}

const HOPS = 3;

interface BenchParams {
  target: string;
  run: string;
  /** A fan-out instead of three hops: this many `step.do` calls, `parallel` at a time. */
  items?: number;
  parallel?: number;
  fetch?: boolean;
  /** Three steps that compute their value (the peer of three \`transform\` steps), not calls. */
  compute?: boolean;
}

const database = (env: PeerEnv) =>
  openDatabase({ connectionString: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY, max: 1 });

const app = new Hono<{ Bindings: PeerEnv }>()
  .get("/health", (c) => c.text("ok"))
  .get("/bare/workflows", async (c) => {
    const session = database(c.env);
    try {
      const owner = { id: c.req.query("owner") ?? "", roles: ["user"] } as AuthenticatedUser;
      return c.json(await listWorkflows(session.db, owner, { limit: 20 }));
    } finally {
      c.executionCtx.waitUntil(session.close());
    }
  })
  .post("/workflows", async (c) => {
    const params = await c.req.json<BenchParams>();
    const instance = await c.env.BENCH_WORKFLOW.create({ params });
    return c.json({ id: instance.id }, 201);
  })
  .get("/workflows/:id", async (c) => {
    const instance = await c.env.BENCH_WORKFLOW.get(c.req.param("id"));
    return c.json(await instance.status());
  })
  .post("/floor", async (c) => {
    const { target, run } = await c.req.json<{ target: string; run: string }>();
    await c.env.FLOOR_QUEUE.send({ target, run, hop: 1 });
    return c.json({ ok: true }, 202);
  });

/** Three steps, each calling the target as the platform's http step does (or a fan-out of `items`). */
export class BenchWorkflow extends WorkflowEntrypoint<PeerEnv, BenchParams> {
  async run(event: Readonly<WorkflowEvent<BenchParams>>, step: WorkflowStep) {
    const { items, parallel = 50, fetch: calls = false, target, run } = event.payload;
    if (items) {
      const outputs: unknown[] = [];
      for (let from = 0; from < items; from += parallel) {
        const batch = Array.from({ length: Math.min(parallel, items - from) }, (_, i) => from + i);
        outputs.push(
          ...(await Promise.all(
            batch.map((index) =>
              step.do(`item ${index}`, async () =>
                calls ? (await fetch(`${target}?run=${run}&item=${index}`)).status : { item: index },
              ),
            ),
          )),
        );
      }
      return outputs.length;
    }
    if (event.payload.compute) {
      let previous = 0;
      for (let hop = 1; hop <= HOPS; hop++) previous = await step.do(`step ${hop}`, async () => previous + hop);
      return previous;
    }
    for (let hop = 1; hop <= HOPS; hop++) {
      await step.do(`call ${hop}`, async () => {
        const res = await fetch(`${event.payload.target}?run=${event.payload.run}`);
        return res.status;
      });
    }
  }
}

export default {
  fetch: app.fetch,
  /** One hop of the floor: a Postgres write and the target's call, then the next hop's message. */
  async queue(batch: MessageBatch<{ target: string; run: string; hop: number }>, env: PeerEnv) {
    const session = database(env);
    try {
      for (const message of batch.messages) {
        const { target, run, hop } = message.body;
        await session.db.execute(sql`insert into bench_floor (run, hop) values (${run}, ${hop})`);
        await fetch(`${target}?run=${run}`);
        if (hop < HOPS) await env.FLOOR_QUEUE.send({ target, run, hop: hop + 1 });
        message.ack();
      }
    } finally {
      await session.close();
    }
  },
} satisfies ExportedHandler<PeerEnv, { target: string; run: string; hop: number }>;
