/**
 * The approvals inbox (an API extension, GET /approvals): every approval step waiting now that the
 * caller may decide — on executions they may act on (admins: all; users: their own, docs/security.md) and
 * whose `approverRoles`, when set, include one of the caller's roles — and every agent step waiting
 * for its execution's cost budget to be raised (docs/workflows.md Cost). Oldest first, in keyset
 * pages like every list (a busy platform has more than a page waiting).
 */
import { sql } from "drizzle-orm";
import { changesAll } from "../auth/permissions";
import type { AuthenticatedUser } from "../auth/principal";
import type { Queryable } from "../db/client";
import { decodeCursor, type Page, toPage } from "./pagination";

export interface Approval {
  executionId: string;
  workflowId: string;
  workflowName: string;
  stepId: string;
  reason: "approval" | "budget";
  budget: { budgetUsd: number; spentUsd: number; nextCallUsd: number } | null;
  approverRoles: string[];
  message: string | null;
  waitingSince: string | null;
  expiresAt: string | null;
}

export async function listApprovals(
  db: Queryable,
  user: AuthenticatedUser,
  page: { limit: number; cursor?: string },
): Promise<Page<Approval>> {
  const after = decodeCursor(page.cursor);
  const position = sql`(s.updated_at, s.execution_id::text || '/' || s.step_id)`;
  const own = changesAll(user) ? sql`true` : sql`(e.triggered_by = ${user.id} or w.owner_id = ${user.id})`;
  const { rows } = await db.execute<{
    execution_id: string;
    workflow_id: string;
    workflow_name: string;
    step_id: string;
    waiting: {
      reason: "approval" | "budget";
      approverRoles?: string[];
      message?: string;
      expiresAt?: string;
      budgetUsd?: number;
      spentUsd?: number;
      nextCallUsd?: number;
    } | null;
    since: string | null;
    position_at: string;
  }>(sql`
    select s.execution_id, e.workflow_id, w.name as workflow_name, s.step_id, s.waiting,
           to_char(s.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as since,
           to_char(s.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as position_at
    from execution_steps s
    join executions e on e.id = s.execution_id
    join workflows w on w.id = e.workflow_id
    where s.status = 'waiting' and s.waiting->>'reason' in ('approval', 'budget')
      and e.status in ('running', 'paused')
      and ${own}
      and (jsonb_typeof(s.waiting->'approverRoles') is distinct from 'array'
           or jsonb_array_length(s.waiting->'approverRoles') = 0
           or exists (select 1 from jsonb_array_elements_text(s.waiting->'approverRoles') role
                      where role = any(${sql.param(user.roles)}::text[])))
      and ${after ? sql`${position} > (${after.at}::timestamptz, ${after.id})` : sql`true`}
    order by s.updated_at, s.execution_id::text || '/' || s.step_id
    limit ${page.limit + 1}`);
  return toPage(
    rows,
    page.limit,
    (row) => ({ at: row.position_at, id: `${row.execution_id}/${row.step_id}` }),
    (row) => ({
      executionId: row.execution_id,
      workflowId: row.workflow_id,
      workflowName: row.workflow_name,
      stepId: row.step_id,
      reason: row.waiting?.reason === "budget" ? "budget" : "approval",
      budget:
        row.waiting?.reason === "budget"
          ? {
              budgetUsd: row.waiting.budgetUsd ?? 0,
              spentUsd: row.waiting.spentUsd ?? 0,
              nextCallUsd: row.waiting.nextCallUsd ?? 0,
            }
          : null,
      approverRoles: row.waiting?.approverRoles ?? [],
      message: row.waiting?.message ?? null,
      waitingSince: row.since,
      expiresAt: row.waiting?.expiresAt ?? null,
    }),
  );
}
