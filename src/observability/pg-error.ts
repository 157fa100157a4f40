/** Finding the Postgres error under drizzle's wrapper (its SQLSTATE and constraint). */
export interface PgErrorLike {
  code?: string;
  constraint?: string;
  cause?: unknown;
}

/** The Postgres error under drizzle's `DrizzleQueryError`, if any. */
export function pgError(error: unknown): PgErrorLike | null {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === "object"; depth++) {
    const candidate = current as PgErrorLike;
    if (typeof candidate.code === "string" && /^[0-9A-Z]{5}$/.test(candidate.code)) return candidate;
    current = candidate.cause;
  }
  return null;
}
