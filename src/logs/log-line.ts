/** One line of an execution's log, the same whether it is read from Postgres or from an R2 archive. */
import type { executionLogs } from "../db/schema";

export interface LogLine {
  seq: number;
  at: string;
  level: "debug" | "info" | "warn" | "error";
  event: string;
  stepId: string | null;
  message: string | null;
  data: unknown;
}

export function toLogLine(row: typeof executionLogs.$inferSelect): LogLine {
  return {
    seq: row.seq,
    at: row.createdAt.toISOString(),
    level: row.level,
    event: row.event,
    stepId: row.stepId,
    message: row.message,
    data: row.data,
  };
}
