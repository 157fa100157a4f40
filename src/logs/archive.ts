/**
 * Log archival (SPEC §7, LOG_ARCHIVE_AFTER_DAYS): execution logs older than the cut-off move to R2
 * as gzip NDJSON, one object per execution and day. Rows leave Postgres only after the object is
 * confirmed in R2, in the same transaction that records the archive, so an R2 failure part-way
 * loses no line: untouched groups stay in Postgres for the next run.
 */

import { createHash } from "node:crypto";
import { and, asc, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { executionLogs, logArchives } from "../db/schema";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import { readArchive } from "./archived";
import { toLogLine } from "./log-line";

const GROUPS_PER_RUN = 500;

export interface ArchiveOutcome {
  archived: number;
  lines: number;
  failed: number;
}

export function archiveKey(day: string, executionId: string): string {
  return `logs/${day}/${executionId}.ndjson.gz`;
}

export async function archiveLogs(
  db: Database,
  bucket: R2Bucket,
  olderThanDays: number,
  now = new Date(),
): Promise<ArchiveOutcome> {
  const cutoff = new Date(now.getTime() - olderThanDays * 24 * 3600 * 1000);
  const groups = await db.execute<{ execution_id: string; day: string }>(sql`
    select execution_id, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD') as day
    from execution_logs where created_at < ${cutoff}
    group by 1, 2 order by 2, 1 limit ${GROUPS_PER_RUN}`);
  const outcome: ArchiveOutcome = { archived: 0, lines: 0, failed: 0 };
  for (const group of groups.rows) {
    try {
      outcome.lines += await archiveGroup(db, bucket, group.execution_id, group.day, cutoff);
      outcome.archived++;
    } catch (error) {
      outcome.failed++;
      logEvent("error", "log_archive_failed", {
        executionId: group.execution_id,
        day: group.day,
        ...describeError(error),
      });
    }
  }
  return outcome;
}

async function archiveGroup(
  db: Database,
  bucket: R2Bucket,
  executionId: string,
  day: string,
  cutoff: Date,
): Promise<number> {
  const dayStart = new Date(`${day}T00:00:00.000Z`);
  const dayEnd = new Date(dayStart.getTime() + 24 * 3600 * 1000);
  const inRange = and(
    eq(executionLogs.executionId, executionId),
    sql`${executionLogs.createdAt} >= ${dayStart} and ${executionLogs.createdAt} < ${dayEnd} and ${executionLogs.createdAt} < ${cutoff}`,
  );
  const rows = await db.select().from(executionLogs).where(inRange).orderBy(asc(executionLogs.seq));
  if (rows.length === 0) return 0;
  const key = archiveKey(day, executionId);
  // An earlier run may have archived part of this day already: keep its lines too.
  const [existing] = await db
    .select()
    .from(logArchives)
    .where(and(eq(logArchives.executionId, executionId), eq(logArchives.day, day)));
  const earlier = existing ? await readArchive(bucket, existing.objectKey) : [];
  const bySeq = new Map(earlier.map((line) => [line.seq, line]));
  for (const row of rows) bySeq.set(row.seq, toLogLine(row));
  const lines = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  const body = await gzip(`${lines.map((line) => JSON.stringify(line)).join("\n")}\n`);
  const put = await bucket.put(key, body, {
    httpMetadata: { contentType: "application/x-ndjson", contentEncoding: "gzip" },
  });
  const confirmed = await bucket.head(key);
  if (!put || !confirmed || confirmed.size !== body.length) throw new Error(`R2 did not confirm ${key}`);
  await db.transaction(async (tx) => {
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
    await tx
      .insert(logArchives)
      .values(values)
      .onConflictDoUpdate({ target: [logArchives.executionId, logArchives.day], set: values });
    // The same lines that were read: logs this old never change, so the range is exact.
    await tx.delete(executionLogs).where(and(inRange, sql`${executionLogs.seq} <= ${rows[rows.length - 1].seq}`));
  });
  return rows.length;
}

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
