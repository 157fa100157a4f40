/**
 * `npm run deploy -- --env staging|production` (docs/operations.md, Deploy): builds the dashboard,
 * checks that every binding's resource exists (and creates the missing ones with
 * `--create-missing`), uploads the new version without serving it, applies the database
 * migrations to the environment's DATABASE_URL (direct endpoint), and only then switches traffic.
 * `--dry-run` runs every step that needs no Cloudflare account: the checks of the file, the build,
 * the bundle, and the migrations when DATABASE_URL is set.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { unstable_readConfig } from "wrangler";
import { directConnectionString } from "../src/db/endpoints.ts";
import { type DeployConfig, deployProblems, type Resource, resourcesOf } from "./lib/deploy-plan.ts";
import { runMigrations } from "./lib/migrate.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values: args } = parseArgs({
  options: {
    env: { type: "string" },
    config: { type: "string", default: `${ROOT}wrangler.toml` },
    "create-missing": { type: "boolean", default: false },
    "dry-run": { type: "boolean", default: false },
    "secrets-file": { type: "string" },
  },
});
const log = (line: string) => console.log(`[deploy] ${line}`);

function fail(message: string): never {
  console.error(`[deploy] ${message}`);
  process.exit(1);
}

interface Ran {
  code: number | null;
  output: string;
}

/** Runs a command, its output shown as it comes and kept for reading. */
function run(command: string, commandArgs: string[], options: { quiet?: boolean } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (chunk: Buffer) => {
      output += chunk;
      if (!options.quiet) process.stdout.write(chunk);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("close", (code) => resolve({ code, output }));
  });
}

const wrangler = (commandArgs: string[], options?: { quiet?: boolean }) => run("wrangler", commandArgs, options);

async function main(): Promise<void> {
  const env = args.env;
  if (env !== "staging" && env !== "production") fail("--env staging or --env production is required");
  const dryRun = args["dry-run"];

  const config: DeployConfig = unstable_readConfig({ config: args.config, env });
  const problems = deployProblems(config);
  if (problems.length > 0)
    fail(`${args.config} is not deployable as ${env}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  log(`${config.name}: the configuration has every binding, a dead-letter queue per queue and keep_vars`);

  const databaseUrl = process.env.DATABASE_URL;
  if (!dryRun && !databaseUrl) {
    fail("DATABASE_URL is required: the migrations are applied to it before the new version serves");
  }

  // Built apart from dist/assets, which a running `npm run dev` serves.
  const assets = `${ROOT}.data/deploy-${env}/assets`;
  log(`building the dashboard into ${assets}`);
  const vite = ["vite", "build", "--config", "dashboard/vite.config.ts", "--outDir", assets, "--emptyOutDir"];
  if ((await run("npx", vite, { quiet: true })).code !== 0) fail("the dashboard build failed");
  if (!existsSync(`${assets}/index.html`)) fail(`the build left no ${assets}/index.html`);
  const envFlag = ["--config", args.config, "--env", env, "--assets", assets];

  await ensureResources(resourcesOf(config), dryRun);

  if (dryRun) {
    const bundle = await wrangler(["deploy", "--dry-run", "--outdir", `${ROOT}.data/deploy-${env}/worker`, ...envFlag]);
    if (bundle.code !== 0) fail("wrangler could not bundle the Worker");
    if (databaseUrl) await migrate(databaseUrl);
    else log("no DATABASE_URL: migrations skipped in this dry run");
    log(`dry run of ${env} complete: nothing was uploaded or deployed`);
    return;
  }

  const secrets = args["secrets-file"] ? ["--secrets-file", args["secrets-file"]] : [];
  log("uploading the new version (not serving yet)");
  const upload = await wrangler(["versions", "upload", ...envFlag, ...secrets]);
  const versionId = /Worker Version ID:\s*([0-9a-f-]{36})/i.exec(upload.output)?.[1];
  if (upload.code === 0 && versionId) {
    await migrate(databaseUrl as string);
    log(`switching traffic to ${versionId}`);
    const switched = await wrangler(["versions", "deploy", `${versionId}@100%`, "--yes", ...envFlag]);
    if (switched.code !== 0) fail(`version ${versionId} is uploaded but not serving; rerun the deploy`);
  } else if (/migration|does not exist|not found|10007/i.test(upload.output)) {
    // A first deploy, or a version carrying Durable Object migrations: those deploy atomically,
    // never as an uploaded version, so the database goes first and the deploy switches at once.
    log("this deploy cannot be a version upload (a new Worker or Durable Object migrations): deploying directly");
    await migrate(databaseUrl as string);
    if ((await wrangler(["deploy", ...envFlag, ...secrets])).code !== 0) fail("wrangler deploy failed");
  } else {
    fail("the upload failed; nothing changed");
  }
  log(`${config.name} deployed; check /health/ready (schema and database checks)`);
}

async function ensureResources(resources: Resource[], dryRun: boolean): Promise<void> {
  const missing: Resource[] = [];
  for (const resource of resources) {
    const check =
      resource.kind === "queue" ? ["queues", "info", resource.name] : ["r2", "bucket", "info", resource.name];
    if (dryRun) {
      log(`would check ${resource.kind} ${resource.name}: wrangler ${check.join(" ")}`);
      continue;
    }
    if ((await wrangler(check, { quiet: true })).code !== 0) missing.push(resource);
  }
  if (missing.length === 0) {
    if (!dryRun) log(`every queue and bucket exists (${resources.length})`);
    return;
  }
  const create = (r: Resource) =>
    r.kind === "queue" ? ["queues", "create", r.name] : ["r2", "bucket", "create", r.name];
  if (!args["create-missing"]) {
    fail(
      `missing: ${missing.map((r) => `${r.kind} ${r.name}`).join(", ")}. Create them with --create-missing, or:\n` +
        missing.map((r) => `  npx wrangler ${create(r).join(" ")}`).join("\n"),
    );
  }
  for (const resource of missing) {
    log(`creating ${resource.kind} ${resource.name}`);
    if ((await wrangler(create(resource))).code !== 0) fail(`could not create ${resource.kind} ${resource.name}`);
  }
}

async function migrate(databaseUrl: string): Promise<void> {
  log("applying the database migrations (direct endpoint)");
  await runMigrations(directConnectionString(databaseUrl));
  log("migrations applied");
}

await main();
