/**
 * `approval` steps: wait for a person's decision (POST …/approve or …/reject), from one of the
 * step's `approverRoles` when it names them; no decision before `timeoutSeconds` fails the step.
 */

import type { StepError } from "../../engine/vocabulary";
import type { InlineKind, StepRuntime } from "../kind";
import type { Actor } from "../task";
import { type ApprovalStep, ApprovalStepSchema } from "./definition";

export const approvalStep = {
  type: "approval",
  schema: ApprovalStepSchema,
  mode: "inline",
  sideEffects: false,
  templatedFields: () => [],
  start(step, run) {
    const timeoutMs = step.timeoutSeconds ? step.timeoutSeconds * 1000 : null;
    run.wait(
      {
        reason: "approval",
        approverRoles: step.approverRoles ?? null,
        message: step.message ?? null,
        expiresAt: timeoutMs === null ? null : run.iso(timeoutMs),
      },
      timeoutMs,
    );
  },
  waitExpired: (_step, run) =>
    run.fail({ message: "no decision before the approval timed out", reason: "timeout", retryable: false }),
} satisfies InlineKind<ApprovalStep>;

/** Whether `actor` may decide `step`. */
export function mayDecide(step: ApprovalStep, actor: Actor): boolean {
  const allowed: string[] | undefined = step.approverRoles;
  return !allowed || actor.roles.some((role) => allowed.includes(role));
}

/** Applies a decision: approval completes the step with the decision, rejection fails it. */
export function applyDecision(
  run: StepRuntime,
  decision: { approved: boolean; decidedBy: string; comment: string | null; decidedAt: string },
): void {
  if (decision.approved) {
    run.complete(decision);
    return;
  }
  const error: StepError = {
    message: decision.comment ? `rejected: ${decision.comment}` : "rejected",
    reason: "rejected",
    retryable: false,
  };
  run.fail(error);
}
