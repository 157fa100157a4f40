/** Once-per-slot bookkeeping for maintenance jobs: a second firing of the same minute finds the claim. */
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "./client";
import { jobRuns } from "./schema";

/** True when this caller is the first to claim (job, slot). */
export async function claimSlot(db: Database, job: string, slot: Date): Promise<boolean> {
  const claimed = await db.insert(jobRuns).values({ job, slot }).onConflictDoNothing().returning({ job: jobRuns.job });
  return claimed.length > 0;
}

export async function finishSlot(db: Database, job: string, slot: Date, outcome: unknown): Promise<void> {
  await db
    .update(jobRuns)
    .set({ finishedAt: sql`now()`, outcome: JSON.parse(JSON.stringify(outcome ?? null)) })
    .where(and(eq(jobRuns.job, job), eq(jobRuns.slot, slot)));
}
