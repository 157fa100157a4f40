/** Direct database access for test setup and assertions (the same driver the Worker uses). */
import { env } from "cloudflare:workers";
import { type DatabaseSession, openDatabase } from "../../src/db/client";

/** Runs `fn` with a fresh session and closes it. */
export async function withDb<T>(fn: (session: DatabaseSession) => Promise<T>): Promise<T> {
  const session = openDatabase({ connectionString: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY });
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

/** Plain SQL with positional parameters; returns rows. */
export function query<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  return withDb(async ({ pool }) => (await pool.query(text, params)).rows as T[]);
}
