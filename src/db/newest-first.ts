/**
 * `ORDER BY … DESC NULLS LAST`: the order of the `(created_at DESC, id DESC)` indexes as
 * drizzle-kit writes them. Plain `desc()` means NULLS FIRST, which no such index serves, so
 * Postgres would sort every matching row to find the newest page (measured: 0.4 ms against
 * 900 ms for the first page of 300,000 executions).
 */
import { type AnyColumn, type SQL, sql } from "drizzle-orm";

export function newestFirst(...columns: AnyColumn[]): SQL[] {
  return columns.map((column) => sql`${column} desc nulls last`);
}
