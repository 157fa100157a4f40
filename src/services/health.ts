/** Readiness checks: configuration and a database round trip under a deadline. */
import { type BackupHealth, backupHealth, backupSchedule, describeProblems } from "../backup/health";
import { ConfigurationError, settings } from "../config";
import { openPlatformDatabase } from "../db/client";
import { type SchemaState, schemaState } from "../db/schema-version";
import type { Bindings } from "../env";

/** Long enough for a Neon compute to wake from scale-to-zero. */
export const READY_TIMEOUT_MS = 5_000;

export interface Check {
  name: string;
  ok: boolean;
  /** Warnings are reported but do not make the Worker unready (stale backups, say). */
  severity: "critical" | "warning";
  detail?: string;
  latencyMs?: number;
}

export async function readinessChecks(env: Bindings, waitUntil: (p: Promise<unknown>) => void): Promise<Check[]> {
  let config: ReturnType<typeof settings>;
  try {
    config = settings(env);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    // Names and what is wrong with them, never values: the operator's first stop is this probe.
    return [{ name: "configuration", ok: false, severity: "critical", detail: error.problems.join("; ") }];
  }
  const session = openPlatformDatabase(config, { connectTimeoutMs: READY_TIMEOUT_MS, max: 1 });
  const started = Date.now();
  try {
    // The round trip that proves the database answers also reads which migrations it has.
    const schema = await withDeadline(schemaState(session.db), READY_TIMEOUT_MS);
    const database: Check = { name: "database", ok: true, severity: "critical", latencyMs: Date.now() - started };
    const problems = describeProblems(
      (await withDeadline(backupHealth(session.db, backupSchedule(env, config)), READY_TIMEOUT_MS).catch(() => null)) ??
        EMPTY,
    );
    return [
      database,
      schemaCheck(schema),
      { name: "backups", ok: problems === null, severity: "warning", ...(problems ? { detail: problems } : {}) },
    ];
  } catch (error) {
    const detail = error instanceof DeadlineError ? "timed out" : "unreachable";
    return [{ name: "database", ok: false, severity: "critical", detail, latencyMs: Date.now() - started }];
  } finally {
    waitUntil(session.close());
  }
}

/** A schema behind the code makes the Worker unready; one ahead (an older version still serving) only warns. */
function schemaCheck(schema: SchemaState): Check {
  switch (schema.state) {
    case "current":
      return { name: "schema", ok: true, severity: "critical" };
    case "behind":
      return {
        name: "schema",
        ok: false,
        severity: "critical",
        detail: `the database is behind the code: applied ${schema.applied ?? "none"}, expected ${schema.expected}; apply the migrations (npm run db:migrate)`,
      };
    case "ahead":
      return {
        name: "schema",
        ok: false,
        severity: "warning",
        detail: `the database has migrations newer than this code (${schema.expected}): an older version is serving`,
      };
  }
}

/** Backup state could not be read in time: reported as unknown rather than failing readiness. */
const EMPTY: BackupHealth = { freshness: [], lastVerification: null, replica: null };

class DeadlineError extends Error {}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError()), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
