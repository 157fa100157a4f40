/**
 * A loggable description of an error. Query errors keep their SQL text and the Postgres code and
 * message but never their parameters, which can hold password hashes, keys or personal data.
 */
import { pgError } from "./pg-error";

export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  const pg = pgError(error);
  const query = (error as { query?: unknown }).query;
  if (pg || typeof query === "string") {
    return {
      error: "query failed",
      query: typeof query === "string" ? query.slice(0, 2000) : undefined,
      pgCode: pg?.code,
      pgMessage: (pg as { message?: string } | null)?.message,
      constraint: pg?.constraint,
    };
  }
  return { error: error.message, name: error.name, stack: error.stack?.split("\n").slice(0, 8).join("\n") };
}
