/**
 * `npm run drill -- --rows 100000`: a disaster-recovery drill against the running platform
 * (`npm run dev`). Seeds a dataset of the stated size, takes a full backup, keeps writing and takes
 * an incremental, keeps writing, then "loses" the database: restores full + incremental into a
 * fresh database with stock psql, checks it, and prints rows, bytes, backup times, the restore
 * time (RTO) and the data-loss window (RPO) with and without the incremental, the Worker's memory
 * during the full backup, and how soon the replica bucket held both backups. `--replica` restores
 * from the replica's copies.
 *
 * Every line says the time since the drill began; `--timeout-minutes` (30) ends a drill that hangs,
 * naming the stage it hung in, and each backup is waited for at most 10 minutes.
 *
 * Needs ADMIN_EMAIL / ADMIN_PASSWORD (or IPA_TOKEN) and the local database that `npm run dev`
 * describes in .data/dev-state.json (or DRILL_DATABASE_URL and DRILL_POSTGRES_URL).
 */
import { parseArgs } from "node:util";
import pg from "pg";
import { answer, connectApi, createWorkflow } from "./lib/api-client.ts";
import { readDevState } from "./lib/dev-state.ts";
import { sampleWorkerMemory } from "./lib/process-memory.ts";
import { localDevKeys } from "./lib/restore/local-keys.ts";
import { restore } from "./lib/restore/restore.ts";
import { openSource } from "./lib/restore/sources.ts";
import { stageClock } from "./lib/stages.ts";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "100000" },
    keep: { type: "boolean", default: false },
    "timeout-minutes": { type: "string", default: "30" },
    replica: { type: "boolean", default: false },
  },
});
const ROWS = Number(values.rows);
const LOGS_PER_EXECUTION = 100;
const BACKUP_WAIT_MS = 10 * 60_000;
// Every line carries the time since the drill began; a stage that hangs ends the drill, naming it.
const clock = stageClock((line) => console.log(`[drill] ${line}`));
const log = (line: string) => clock.start(line);
let stage = "connecting";
const timeoutMinutes = Number(values["timeout-minutes"]);
setTimeout(() => {
  console.error(`[drill] timed out after ${timeoutMinutes} min while ${stage}`);
  process.exit(2);
}, timeoutMinutes * 60_000).unref();

const state = await localDatabase();
const api = await connectApi();
const db = new pg.Client({ connectionString: state.databaseUrl });
await db.connect();

const workflow = await createWorkflow(api.client, `drill ${new Date().toISOString()}`, [
  { id: "t", type: "transform", output: 1 },
]);
stage = "seeding";
log(`seeding ${ROWS} rows (executions with ${LOGS_PER_EXECUTION} log lines each)…`);
const seedStarted = Date.now();
await seed(ROWS);
const [{ size }] = (await db.query("select pg_database_size(current_database())::bigint as size")).rows;
log(`seeded in ${secs(Date.now() - seedStarted)} s; database size ${mib(Number(size))}`);

const memory = sampleWorkerMemory();
const full = await backup("full");
const fullMemory = await memory.stop();
await seed(1_000);
const incremental = await backup("incremental");
const replicaLag = await replicated([full.id, incremental.id]);
await seed(500);
const disasterAt = new Date();
stage = "restoring";
log(`disaster at ${disasterAt.toISOString()}: restoring the newest backups into a fresh database…`);

const targetName = `drill_restore_${Date.now()}`;
const admin = new pg.Client({ connectionString: state.postgresUrl });
await admin.connect();
await admin.query(`create database ${targetName}`);
const target = new URL(state.postgresUrl);
target.pathname = `/${targetName}`;
const report = await restore({
  source: await openSource(process.env, { replica: values.replica }),
  target: target.toString(),
  backupId: incremental.id,
  encryptionKeys: process.env.ENCRYPTION_KEYS ?? localDevKeys(process.env.IPA_URL),
  log: (line) => log(line),
});
if (!values.keep) await admin.query(`drop database ${targetName}`);
await admin.end();

const rpoFull = disasterAt.getTime() - Date.parse(full.snapshotAt);
const rpoIncremental = disasterAt.getTime() - Date.parse(incremental.snapshotAt);
console.log(`
drill results (${ROWS} seeded rows)
  rows in the restore                 ${report.rows}
  database size before                ${mib(Number(size))}
  full backup                         ${secs(full.durationMs)} s (${Math.round(report.rows / (full.durationMs / 1000))} rows/s), ${mib(full.sizeBytes)} stored
  incremental backup                  ${incremental.durationMs} ms for the rows written since the full, ${mib(incremental.sizeBytes)} stored
  restore (RTO, full + incremental)   ${secs(report.elapsedMs)} s
  checks                              ${report.mismatches.length ? `MISMATCH: ${report.mismatches.join("; ")}` : `all ${report.tables} tables match`}
  worker memory during the full        ${fullMemory ? `${mib(fullMemory.startBytes)} at start, ${mib(fullMemory.peakBytes)} peak (workerd RSS)` : "not measured (no /proc)"}
  replica copies                      ${replicaLag === null ? "no replica bucket bound" : `both copied and checked, the last ${secs(replicaLag)} s after its backup finished`}
  restored from                       ${values.replica ? "the replica bucket" : "the primary bucket"}
  RPO with the full backup only       ${secs(rpoFull)} s of writes lost (schedule worst case 24 h)
  RPO with incrementals               ${secs(rpoIncremental)} s of writes lost (schedule worst case 1 min)`);

if (!values.keep) await db.query("delete from executions where workflow_id = $1", [workflow.id]);
await db.end();
process.exit(report.mismatches.length ? 1 : 0);

async function seed(rows: number): Promise<void> {
  const executions = Math.max(1, Math.ceil(rows / LOGS_PER_EXECUTION));
  for (let done = 0; done < executions; done += 1_000) {
    const batch = Math.min(1_000, executions - done);
    await db.query(
      `with e as (
         insert into executions (workflow_id, workflow_version_id, status, trigger_type, input, started_at, completed_at)
         select $1, $2, 'completed', 'manual', jsonb_build_object('n', i), now(), now() from generate_series(1, $3) i returning id
       )
       insert into execution_logs (execution_id, seq, level, event, message, data, created_at)
       select e.id, s, 'info', 'log', 'drill line ' || s, jsonb_build_object('s', s, 'pad', repeat('x', 60)), now()
       from e, generate_series(1, $4) s`,
      [workflow.id, workflow.versionId, batch, LOGS_PER_EXECUTION - 1],
    );
  }
}

async function backup(kind: "full" | "incremental") {
  stage = `taking the ${kind} backup`;
  log(`${stage}…`);
  const { backups } = api.client.api.v1.admin;
  const started = await answer(`start a ${kind} backup`, backups.$post({ json: { kind } }));
  const deadline = Date.now() + BACKUP_WAIT_MS;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`the ${kind} backup did not finish in ${BACKUP_WAIT_MS / 60_000} min`);
    const row = await answer("read the backup", backups[":id"].$get({ param: { id: started.id } }));
    if (row.status === "completed" || row.status === "verified") {
      const { snapshotAt, durationMs, sizeBytes } = row;
      if (snapshotAt === null || durationMs === null || sizeBytes === null)
        throw new Error(`backup ${row.id} is ${row.status} but lacks its snapshot time, duration or size`);
      log(`${kind} backup ${row.id}: ${secs(durationMs)} s, ${mib(sizeBytes)}`);
      return { id: row.id, snapshotAt, durationMs, sizeBytes };
    }
    if (row.status === "failed") throw new Error(`${kind} backup failed: ${row.reason}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Waits for the backups' replica copies; answers the longest finish-to-copied time, or null without a replica. */
async function replicated(ids: string[]): Promise<number | null> {
  stage = "waiting for the replica copies";
  const { backups } = api.client.api.v1.admin;
  let longest = 0;
  for (const id of ids) {
    const deadline = Date.now() + BACKUP_WAIT_MS;
    for (;;) {
      const row = await answer("read the backup", backups[":id"].$get({ param: { id } }));
      if (!row.replica) return null;
      if (row.replica.status === "copied" && row.replica.at && row.completedAt) {
        longest = Math.max(longest, Date.parse(row.replica.at) - Date.parse(row.completedAt));
        break;
      }
      if (Date.now() > deadline) throw new Error(`backup ${id} was not copied to the replica: ${row.replica.reason}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  return longest;
}

async function localDatabase(): Promise<{ databaseUrl: string; postgresUrl: string }> {
  if (process.env.DRILL_DATABASE_URL && process.env.DRILL_POSTGRES_URL) {
    return { databaseUrl: process.env.DRILL_DATABASE_URL, postgresUrl: process.env.DRILL_POSTGRES_URL };
  }
  return readDevState();
}

function secs(ms: number): string {
  return (ms / 1000).toFixed(1);
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
