/** Recognising Postgres errors through drizzle's wrapper. */
import { ConflictError } from "../errors";
import { pgError } from "../observability/pg-error";

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const pg = pgError(error);
  return pg?.code === "23505" && (!constraint || pg.constraint === constraint);
}

export function isForeignKeyViolation(error: unknown): boolean {
  return pgError(error)?.code === "23503";
}

/** What violating each unique constraint means to the caller: its message and error code. */
export type UniqueConflicts = Record<string, readonly [message: string, code: string]>;

/** The ConflictError a violation of one of `conflicts`' constraints means; any other error as it is. */
export function asConflict(error: unknown, conflicts: UniqueConflicts): unknown {
  const pg = pgError(error);
  if (pg?.code !== "23505" || !pg.constraint || !Object.hasOwn(conflicts, pg.constraint)) return error;
  const [message, code] = conflicts[pg.constraint];
  return new ConflictError(message, code);
}

/**
 * Errors that retrying will not cure: data exceptions (22), integrity violations (23) and
 * program limits (54). Everything else, connection failures included, is retried.
 */
export function isPermanent(error: unknown): boolean {
  const code = pgError(error)?.code;
  return !!code && (code.startsWith("22") || code.startsWith("23") || code.startsWith("54"));
}
