/**
 * Compensation (docs/workflows.md "Compensation"): when an execution fails, or is cancelled with
 * `compensate`, the `compensate` steps of its completed steps run one at a time, the last
 * completed step's first, each a sub-step `<id>[compensate]` with its own attempts, retries and
 * key. The execution is `compensating` meanwhile and then ends as it was going to, with what was
 * compensated and what failed to be on its record. A failed compensation is recorded and the
 * others still run.
 */
import { isTerminalStep } from "../../engine/vocabulary";
import { parseSubStepId, subStepId } from "../../steps/inner";
import { ContainerTransitions } from "./containers";
import { freshStep } from "./step-data";
import type { ExecutionRecord, PendingAudit, StepState } from "./types";

export abstract class CompensationTransitions extends ContainerTransitions {
  protected beginCompensation(
    endAs: "failed" | "cancelled",
    error: ExecutionRecord["error"],
    audit: PendingAudit | undefined,
  ): boolean {
    const record = this.requireRecord();
    // Once per run: a compensation that fails does not start another round.
    if (record.compensation) return false;
    const pending = this.store
      .topSteps()
      .filter((step) => step.status === "completed" && this.compensationOf(step.stepId))
      .sort(
        (a, b) =>
          (b.completedSeq ?? 0) - (a.completedSeq ?? 0) || (b.completedAt ?? "").localeCompare(a.completedAt ?? ""),
      )
      .map((step) => step.stepId);
    if (pending.length === 0) return false;
    for (const step of this.store.steps()) {
      if (!isTerminalStep(step.status)) this.skip(step, endAs === "cancelled" ? "cancelled" : "execution_failed");
    }
    this.store.clearWorkTimers();
    record.status = "compensating";
    record.compensation = { endAs, error, pending, completed: [], failed: [] };
    this.saveRecord();
    this.emit(
      "execution.compensating",
      null,
      { endAs, error, steps: pending },
      "warn",
      `compensating ${pending.length} completed step${pending.length === 1 ? "" : "s"}, last completed first`,
      audit,
    );
    this.nextCompensation();
    return true;
  }

  /** A compensation sub-step ended: record it and run the next, or end the execution. */
  protected compensationEnded(sub: StepState): void {
    const record = this.requireRecord();
    const place = parseSubStepId(sub.stepId);
    const compensation = record.compensation;
    if (!place || record.status !== "compensating" || compensation?.pending[0] !== place.containerId) return;
    compensation.pending.shift();
    if (sub.status === "completed") compensation.completed.push(place.containerId);
    else
      compensation.failed.push({
        stepId: place.containerId,
        error: sub.error ?? { message: "the compensation failed", reason: "compensation_failed" },
      });
    this.saveRecord();
    this.nextCompensation();
  }

  private nextCompensation(): void {
    const record = this.requireRecord();
    const compensation = record.compensation;
    if (!compensation || record.status !== "compensating") return;
    const stepId = compensation.pending[0];
    if (stepId === undefined) {
      this.finish(compensation.endAs, compensation.error, undefined, false);
      return;
    }
    const id = subStepId(stepId, "compensate");
    const definition = this.definitionOf(id);
    if (!definition) throw new Error(`${stepId} has no compensation`);
    const sub = freshStep({ id, type: definition.type }, record.run);
    // Its own key, new in each run (a later run's compensation of a kept step is not the earlier one's).
    sub.idempotencyKey = `${this.store.step(stepId)?.idempotencyKey ?? stepId}[compensate.${record.run}]`;
    this.store.putStep(sub);
    this.startStep(definition, sub);
  }

  /** A cancel while compensating: the compensations still run, and the execution then ends cancelled. */
  protected cancelWhileCompensating(reason: ExecutionRecord["error"], audit: PendingAudit): void {
    const compensation = this.requireRecord().compensation;
    if (!compensation) return;
    compensation.endAs = "cancelled";
    if (reason) compensation.error = reason;
    this.saveRecord();
    this.emit(
      "log",
      null,
      { reason: "cancel_after_compensation" },
      "info",
      "cancelled: it ends once its compensations have run",
      audit,
    );
  }

  private compensationOf(stepId: string): boolean {
    const definition = this.record?.definition.steps.find((step) => step.id === stepId);
    return !!definition && "compensate" in definition && !!definition.compensate;
  }
}
