/**
 * `npm run deploy`'s script end to end against a dry-run target: the configuration's checks, the
 * dashboard build, the bundle of the environment and the migrations applied to a real PostgreSQL;
 * and a configuration that would drop failed messages or wipe the dashboard's vars is refused.
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import journal from "../../migrations/meta/_journal.json" with { type: "json" };
import { freePort } from "../../scripts/lib/ports.ts";
import { type LocalPostgres, startPostgres } from "../../scripts/lib/postgres.ts";

let dataDir: string;
let server: LocalPostgres;

beforeAll(async () => {
  dataDir = await mkdtemp(`${tmpdir()}/ipa-deploy-test-`);
  server = await startPostgres({ dataDir: `${dataDir}/postgres`, port: await freePort(56432), password: "deploy-pw" });
  await server.createDatabase("target");
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

function deploy(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "-s", "deploy", "--", ...args], {
      env: { ...process.env, DATABASE_URL: "", ...env },
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe("npm run deploy", () => {
  it("checks, builds, bundles and migrates in a dry run, uploading nothing", async () => {
    const { code, output } = await deploy(["--env", "production", "--dry-run"], {
      DATABASE_URL: server.url("target"),
    });
    expect(output).toContain("the configuration has every binding, a dead-letter queue per queue and keep_vars");
    expect(output).toContain("would check queue ipa-jobs-dlq-production: wrangler queues info ipa-jobs-dlq-production");
    expect(output).toContain("would check bucket ipa-platform-data-production-replica");
    expect(output).toContain("env.STORAGE_REPLICA (ipa-platform-data-production-replica)");
    expect(output).toContain("migrations applied");
    expect(code).toBe(0);
    const client = new pg.Client({ connectionString: server.url("target") });
    await client.connect();
    try {
      const { rows } = await client.query("select count(*)::int as n from drizzle.__drizzle_migrations");
      expect(rows[0].n).toBe(journal.entries.length);
    } finally {
      await client.end();
    }
  }, 300_000);

  it("refuses a configuration that drops failed messages or deletes the dashboard's vars", async () => {
    const config = (await readFile("wrangler.toml", "utf8"))
      .replace('dead_letter_queue = "ipa-jobs-dlq-staging"\n', "")
      .replace("keep_vars = true\n", "")
      .replace('main = "src/index.ts"', 'main = "../../src/index.ts"');
    await mkdir(".data/deploy-test", { recursive: true });
    await writeFile(".data/deploy-test/wrangler.toml", config);
    const { code, output } = await deploy([
      "--env",
      "staging",
      "--dry-run",
      "--config",
      ".data/deploy-test/wrangler.toml",
    ]);
    expect(code).toBe(1);
    expect(output).toContain("queue ipa-jobs-staging has no dead_letter_queue: its failed messages would be dropped");
    expect(output).toContain("keep_vars is not true");
    expect(output).not.toContain("building the dashboard");
  }, 120_000);

  it("refuses a real deploy without DATABASE_URL, before building or uploading anything", async () => {
    const { code, output } = await deploy(["--env", "staging"]);
    expect(code).toBe(1);
    expect(output).toContain("DATABASE_URL is required");
    expect(output).not.toContain("uploading");
  });
});
