/**
 * The relay's pooled endpoint against the tests' real PostgreSQL, through the Neon driver the
 * platform uses: many clients share a bounded set of Postgres connections, a transaction keeps
 * its connection to the end, and a client that leaves mid-transaction cannot leak it to another.
 */
import { Client, neonConfig } from "@neondatabase/serverless";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";
import { freePort } from "../../scripts/lib/ports.ts";
import { type Relay, startRelay } from "../../scripts/lib/ws-relay.ts";

neonConfig.webSocketConstructor = WebSocket;

const POOL_SIZE = 4;
// A database of its own, so the other test files' sessions are not counted as the pool's.
const DATABASE = "ipa_pooler_test";
const adminUrl = inject("postgresAdminUrl");
const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${DATABASE}` }).toString();
let relay: Relay;
let monitor: pg.Pool;

async function asAdmin(text: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(text);
  } finally {
    await admin.end();
  }
}

beforeAll(async () => {
  await asAdmin(`drop database if exists ${DATABASE} with (force)`);
  await asAdmin(`create database ${DATABASE}`);
  relay = await startRelay({
    port: await freePort(),
    target: `127.0.0.1:${inject("postgresPort")}`,
    poolSize: POOL_SIZE,
  });
  monitor = new pg.Pool({ connectionString: databaseUrl, max: 2, application_name: "pooler-test-monitor" });
  await monitor.query("create table pooler_probe (id int primary key)");
});

afterAll(async () => {
  await monitor.end();
  await relay.close();
  await asAdmin(`drop database if exists ${DATABASE} with (force)`);
});

async function connectClient(options: { password?: string } = {}): Promise<Client> {
  const url = new URL(databaseUrl);
  if (options.password) url.password = options.password;
  const client = new Client({ connectionString: url.toString() });
  client.neonConfig.wsProxy = relay.wsProxy;
  client.neonConfig.useSecureWebSocket = false;
  client.neonConfig.pipelineTLS = false;
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** Postgres sessions on the pool's database other than the monitor's own. */
async function sessions(): Promise<number> {
  const { rows } = await monitor.query<{ n: number }>(
    "select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name <> 'pooler-test-monitor' and pid <> pg_backend_pid()",
  );
  return rows[0].n;
}

describe("the relay's pooled endpoint", () => {
  it("serves 60 clients at once on at most its pool's Postgres connections", async () => {
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await sessions());
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const results = await Promise.all(
      Array.from({ length: 60 }, async (_, index) => {
        const client = await connectClient();
        try {
          const { rows } = await client.query("select $1::int as n, pg_sleep(0.05)", [index]);
          return rows[0].n as number;
        } finally {
          await client.end();
        }
      }),
    );
    sampling = false;
    await sampler;
    expect(results).toEqual(Array.from({ length: 60 }, (_, index) => index));
    expect(peak).toBeGreaterThanOrEqual(1);
    expect(peak).toBeLessThanOrEqual(POOL_SIZE);
  });

  it("resets a connection before lending it again: no setting or session lock reaches the next client", async () => {
    const first = await connectClient();
    const pid = (await first.query("select pg_backend_pid() as pid")).rows[0].pid;
    await first.query("set statement_timeout = '1234ms'");
    await first.query("select pg_advisory_lock(4242)");
    await first.end();
    // Every client after it, on whichever connection it gets (that one among them), sees nothing of it.
    for (let i = 0; i < POOL_SIZE * 2; i++) {
      const next = await connectClient();
      try {
        const { rows } = await next.query(
          "select pg_backend_pid() as pid, current_setting('statement_timeout') as timeout, (select count(*)::int from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()) as locks",
        );
        expect(rows[0], `connection ${rows[0].pid} (the first's was ${pid})`).toMatchObject({ timeout: "0", locks: 0 });
      } finally {
        await next.end();
      }
    }
  });

  it("keeps a transaction on one connection to its end, unseen by the clients sharing the pool", async () => {
    const holder = await connectClient();
    await holder.query("begin");
    const pid = (await holder.query("select pg_backend_pid() as pid")).rows[0].pid;
    await holder.query("insert into pooler_probe values (1)");
    const others = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const client = await connectClient();
        try {
          return (await client.query("select count(*)::int as n from pooler_probe")).rows[0].n as number;
        } finally {
          await client.end();
        }
      }),
    );
    expect(others).toEqual(Array(12).fill(0));
    expect((await holder.query("select pg_backend_pid() as pid")).rows[0].pid).toBe(pid);
    await holder.query("commit");
    await holder.end();
    const after = await connectClient();
    expect((await after.query("select count(*)::int as n from pooler_probe")).rows[0].n).toBe(1);
    await after.end();
  });

  it("closes the connection of a client gone mid-transaction, so its transaction rolls back and nobody inherits it", async () => {
    const leaver = await connectClient();
    await leaver.query("begin");
    const pid = (await leaver.query("select pg_backend_pid() as pid")).rows[0].pid;
    await leaver.query("insert into pooler_probe values (2)");
    await leaver.end();
    await expect
      .poll(async () => (await monitor.query("select 1 from pg_stat_activity where pid = $1", [pid])).rowCount)
      .toBe(0);
    const next = await connectClient();
    const { rows } = await next.query("select count(*)::int as n, pg_backend_pid() as pid from pooler_probe");
    expect(rows[0].n).toBe(1);
    expect(rows[0].pid).not.toBe(pid);
    // A fresh statement is outside any transaction: begin works, with no warning of one in progress.
    await next.query("begin");
    await next.query("rollback");
    await next.end();
  });

  it("drops every client and every Postgres connection when the relay goes down, opening none for those waiting", async () => {
    const holders = await Promise.all(Array.from({ length: POOL_SIZE }, () => connectClient()));
    for (const holder of holders) await holder.query("begin");
    const waiting = await Promise.all(Array.from({ length: 3 }, () => connectClient()));
    const queries = waiting.map((client) => client.query("select 1").catch((error: Error) => error));
    await expect.poll(sessions).toBe(POOL_SIZE);
    relay.down();
    try {
      for (const outcome of await Promise.all(queries)) expect(outcome).toBeInstanceOf(Error);
      await expect.poll(sessions).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await sessions()).toBe(0);
    } finally {
      relay.up();
    }
    const after = await connectClient();
    expect((await after.query("select 2 as two")).rows[0].two).toBe(2);
    await after.end();
  });

  it("asks the client's password and refuses a wrong one with Postgres's own error", async () => {
    // The driver pipelines its handshake with the first query, so that query carries the refusal.
    const stranger = await connectClient({ password: "not-the-password" });
    await expect(stranger.query("select 1")).rejects.toThrow(/password authentication failed/);
    const client = await connectClient();
    expect((await client.query("select 1 as one")).rows[0].one).toBe(1);
    await client.end();
  });
});
