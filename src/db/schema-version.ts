/**
 * Whether the database's schema is the one this code was built for: the newest migration the
 * code ships (migrations/meta/_journal.json) against the newest drizzle recorded as applied. A
 * deploy applies the migrations before it switches traffic (docs/operations.md), so a database
 * behind the code means a step was skipped.
 */
import { sql } from "drizzle-orm";
import journal from "../../migrations/meta/_journal.json";
import type { Database } from "./client";

const newest = journal.entries[journal.entries.length - 1];

export type SchemaState =
  | { state: "current" }
  | { state: "behind"; applied: string | null; expected: string }
  | { state: "ahead"; expected: string };

export async function schemaState(db: Database): Promise<SchemaState> {
  const { rows } = await db.execute<{ newest: string | null }>(
    sql`select max(created_at)::text as newest from drizzle.__drizzle_migrations`,
  );
  const row = rows[0];
  const applied = row?.newest == null ? null : Number(row.newest);
  if (applied === newest.when) return { state: "current" };
  if (applied !== null && applied > newest.when) return { state: "ahead", expected: newest.tag };
  const appliedTag = journal.entries.find((entry) => entry.when === applied)?.tag ?? null;
  return { state: "behind", applied: appliedTag, expected: newest.tag };
}
