/**
 * Log archival (docs/operations.md, LOG_ARCHIVE_AFTER_DAYS): a month of execution logs whose every line is
 * older than the cut-off moves to R2 as gzip NDJSON, one object per execution and day, and then
 * leaves Postgres whole — its partition (src/db/partitions.ts) is detached and dropped, with no
 * row-by-row DELETE. A month goes only once each of its (execution, day) groups is confirmed in
 * R2 and recorded, so an R2 failure part-way loses no line: the month stays for the next run,
 * which skips the groups already done. Lines stay readable throughout (readLogs merges both).
 */

import { createHash } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { monthStart, partitionMonth } from "../db/partitions";
import { logArchives } from "../db/schema";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import { readArchive } from "./archived";
import type { LogLine } from "./log-line";

const TABLE = "execution_logs";
const GROUPS_PER_RUN = 500;

export interface ArchiveOutcome {
  archived: number;
  lines: number;
  failed: number;
  /** Months whose partition left Postgres. */
  dropped: string[];
}

export function archiveKey(day: string, executionId: string): string {
  return `logs/${day}/${executionId}.ndjson.gz`;
}

interface Partition {
  name: string;
  /** Still part of execution_logs (a crash may leave one detached, or half-detached, but not dropped). */
  attached: boolean;
  detachPending: boolean;
}

export async function archiveLogs(
  db: Database,
  bucket: R2Bucket,
  olderThanDays: number,
  now = new Date(),
): Promise<ArchiveOutcome> {
  const cutoff = new Date(now.getTime() - olderThanDays * 24 * 3600 * 1000);
  const outcome: ArchiveOutcome = { archived: 0, lines: 0, failed: 0, dropped: [] };
  for (const partition of await partitionsBefore(db, cutoff)) {
    if (!(await archiveMonth(db, bucket, partition, outcome))) break;
  }
  return outcome;
}

/** Our months of execution_logs, attached or left detached by a crash, that end before the cut-off. */
async function partitionsBefore(db: Database, cutoff: Date): Promise<Partition[]> {
  const { rows } = await db.execute<{ name: string; attached: boolean; detach_pending: boolean }>(sql`
    select c.relname as name, i.inhrelid is not null as attached, coalesce(i.inhdetachpending, false) as detach_pending
    from pg_class c left join pg_inherits i on i.inhrelid = c.oid
    where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' and c.relname like ${`${TABLE}_p%`}
    order by c.relname`);
  return rows
    .map((row) => ({ name: row.name, attached: row.attached, detachPending: row.detach_pending }))
    .filter((partition) => {
      const month = partitionMonth(TABLE, partition.name);
      return month !== null && monthStart(month, 1) <= cutoff;
    });
}

/** Archives one month and drops it; false when something is left for the next run. */
async function archiveMonth(db: Database, bucket: R2Bucket, partition: Partition, outcome: ArchiveOutcome) {
  if (!(await archiveGroups(db, bucket, partition.name, outcome))) return false;
  if (partition.attached) {
    // The table has a DEFAULT partition, so a detach cannot be CONCURRENTLY: it takes a short
    // exclusive lock, and gives up after a few seconds rather than hold writers queued behind it
    // (the next run tries again). FINALIZE ends a concurrent detach an older version left pending.
    await db.transaction(async (tx) => {
      await tx.execute(sql`set local lock_timeout = '5s'`);
      const how = partition.detachPending ? sql`finalize` : sql``;
      await tx.execute(
        sql`alter table ${sql.identifier(TABLE)} detach partition ${sql.identifier(partition.name)} ${how}`,
      );
    });
    // A late line may have landed before the detach: now nothing more can, so archive what is there.
    if (!(await archiveGroups(db, bucket, partition.name, outcome))) return false;
  }
  await db.transaction(async (tx) => {
    // Backups learn of the drop here (incremental-changes.ts replays it), as they would of a DELETE.
    await tx.execute(sql`insert into change_log (table_name, pk, op)
      values (${TABLE}, ${JSON.stringify({ partition: partition.name })}::jsonb, 'P')`);
    await tx.execute(sql`drop table ${sql.identifier(partition.name)}`);
  });
  outcome.dropped.push(partition.name);
  logEvent("info", "log_partition_dropped", { partition: partition.name });
  return true;
}

/** Archives the month's groups not yet in R2, within the run's budget; true when none is left. */
async function archiveGroups(db: Database, bucket: R2Bucket, partition: string, outcome: ArchiveOutcome) {
  const budget = GROUPS_PER_RUN - outcome.archived - outcome.failed;
  if (budget <= 0) return false;
  // A group is done when its archive holds at least its lines, over at least its range.
  const { rows: groups } = await db.execute<{ execution_id: string; day: string }>(sql`
    with g as (
      select execution_id, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD') as day,
        count(*) as n, min(seq) as lo, max(seq) as hi
      from ${sql.identifier(partition)} group by 1, 2
    )
    select execution_id, day from g
    where not exists (select 1 from log_archives a where a.execution_id = g.execution_id and a.day = g.day
      and a.first_seq <= g.lo and a.last_seq >= g.hi and a.lines >= g.n)
    order by day, execution_id limit ${budget + 1}`);
  let failures = 0;
  for (const group of groups.slice(0, budget)) {
    try {
      outcome.lines += await archiveGroup(db, bucket, partition, group.execution_id, group.day);
      outcome.archived++;
    } catch (error) {
      failures++;
      outcome.failed++;
      logEvent("error", "log_archive_failed", {
        executionId: group.execution_id,
        day: group.day,
        ...describeError(error),
      });
    }
  }
  return failures === 0 && groups.length <= budget;
}

/**
 * Every line an execution still has in Postgres, archived to R2 by day (merged with what an
 * earlier run archived): what retention does before it removes the execution. Answers the lines.
 */
export async function archiveExecutionLogs(db: Database, bucket: R2Bucket, executionId: string): Promise<number> {
  const { rows } = await db.execute<{ day: string }>(sql`
    select distinct to_char(created_at at time zone 'UTC', 'YYYY-MM-DD') as day
    from ${sql.identifier(TABLE)} where execution_id = ${executionId} order by 1`);
  let lines = 0;
  for (const { day } of rows) lines += await archiveGroup(db, bucket, TABLE, executionId, day);
  return lines;
}

/** One execution's lines of one day in `table` (a month's partition, or the whole log), to R2. */
async function archiveGroup(
  db: Database,
  bucket: R2Bucket,
  table: string,
  executionId: string,
  day: string,
): Promise<number> {
  const dayStart = new Date(`${day}T00:00:00.000Z`);
  const dayEnd = new Date(dayStart.getTime() + 24 * 3600 * 1000);
  const { rows } = await db.execute<Omit<LogLine, "seq"> & { seq: string }>(sql`
    select seq, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at, level, event,
      step_id as "stepId", message, data
    from ${sql.identifier(table)}
    where execution_id = ${executionId} and created_at >= ${dayStart} and created_at < ${dayEnd}
    order by seq`);
  if (rows.length === 0) return 0;
  const key = archiveKey(day, executionId);
  // An earlier run may have archived part of this day already: keep its lines too.
  const [existing] = await db
    .select()
    .from(logArchives)
    .where(and(eq(logArchives.executionId, executionId), eq(logArchives.day, day)));
  const earlier = existing ? await readArchive(bucket, existing.objectKey) : [];
  const bySeq = new Map(earlier.map((line) => [line.seq, line]));
  for (const row of rows) bySeq.set(Number(row.seq), { ...row, seq: Number(row.seq) });
  const lines = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  const body = await gzip(`${lines.map((line) => JSON.stringify(line)).join("\n")}\n`);
  const put = await bucket.put(key, body, {
    httpMetadata: { contentType: "application/x-ndjson", contentEncoding: "gzip" },
  });
  const confirmed = await bucket.head(key);
  if (!put || !confirmed || confirmed.size !== body.length) throw new Error(`R2 did not confirm ${key}`);
  const values = {
    executionId,
    day,
    objectKey: key,
    firstSeq: lines[0].seq,
    lastSeq: lines[lines.length - 1].seq,
    lines: lines.length,
    bytes: body.length,
    sha256: createHash("sha256").update(body).digest("hex"),
  };
  await db
    .insert(logArchives)
    .values(values)
    .onConflictDoUpdate({ target: [logArchives.executionId, logArchives.day], set: values });
  return rows.length;
}

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
