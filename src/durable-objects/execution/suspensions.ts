/**
 * Agent steps that wait without a consumer (docs/engine.md): for the child executions their
 * workflow tools started, or for an owner to raise the cost budget the next model call would
 * exceed. The step hands back its conversation and resumes from it once answered.
 */
import { roundUsd } from "../../agents/pricing";

import { storable } from "../../engine/storable-text";
import { isTerminalExecution } from "../../engine/vocabulary";
import type { Step } from "../../steps/definition";
import type { StepSuspension } from "../../steps/kind";
import type { OffloadRef } from "../../steps/large-values";
import type { ReportResult, Waiting } from "../../steps/task";
import { CHILDREN_CHECK_MS } from "./clocks";
import { QueuedStepTransitions } from "./queued-steps";
import type { ControlResult, DecisionRequest } from "./rpc";
import type { ChildResult, PendingAudit, StepState } from "./types";

/**
 * The most of a child's output its parent's step keeps (in its row, at most 2 MB with everything
 * else): the model reads at most 16,000 characters of a tool result, and the whole output stays
 * with the child execution.
 */
const CHILD_OUTPUT_BYTES = 32 * 1024;

function boundedChildResult(result: ChildResult): ChildResult {
  const json = JSON.stringify(result.output ?? null);
  if (json.length <= CHILD_OUTPUT_BYTES) return result;
  return {
    ...result,
    output: {
      $truncated: true,
      bytes: new TextEncoder().encode(json).length,
      preview: json.slice(0, CHILD_OUTPUT_BYTES),
      href: `/api/v1/executions/${result.executionId}`,
    },
  };
}

export abstract class SuspendedStepTransitions extends QueuedStepTransitions {
  /** A child's output with its references read: the output itself, or its sink steps' outputs. */
  private inlined(output: unknown): unknown {
    const read = (value: unknown) => (isRef(value) ? this.values.load(value) : value);
    const whole = read(output);
    if (!whole || typeof whole !== "object" || Array.isArray(whole)) return whole;
    return Object.fromEntries(Object.entries(whole).map(([stepId, value]) => [stepId, read(value)]));
  }

  /**
   * An agent step hands back its conversation to wait with no consumer held: for child workflows,
   * or for an owner to raise the cost budget its next model call would exceed.
   */
  suspend(stepId: string, attempt: number, lease: string, suspension: StepSuspension): ReportResult {
    const step = this.leased(stepId, attempt, lease);
    if ("accepted" in step) return step;
    const clean = storable(suspension);
    if (clean.kind !== "child") {
      this.countAttemptUsage(step, clean.usage);
      this.saveCheckpoint(stepId, attempt, clean.state);
      this.store.streamedText.commit(stepId, attempt);
    }
    step.lease = null;
    step.dispatch = null;
    step.status = "waiting";
    this.store.deleteTimer({ kind: "lease", stepId });
    this.store.deleteTimer({ kind: "step_timeout", stepId });
    if (clean.kind === "budget") {
      step.waiting = { reason: "budget", ...clean.budget };
    } else {
      const waitingFor =
        clean.kind === "child" ? [{ toolCallId: "child", executionId: clean.executionId }] : clean.waitingFor;
      step.children = { waitingFor, results: step.children?.results ?? {} };
      step.waiting = { reason: "children", executionIds: waitingFor.map((w) => w.executionId) };
      this.store.setTimer({ kind: "children", stepId, attempt }, this.now + CHILDREN_CHECK_MS);
    }
    this.emit("step.waiting", stepId, { ...step.waiting, attempt });
    this.store.putStep(step);
    this.resumeIfAnswered(step);
    this.schedule();
    return { accepted: true };
  }

  /**
   * An owner's answer to a budget wait (docs/workflows.md Cost): a raised budget that covers what was spent
   * and the next call continues the step from its checkpoint; a rejection fails it, for good.
   */
  protected decideBudget(step: StepState, definition: Step, request: DecisionRequest): ControlResult {
    const record = this.requireRecord();
    const waiting = step.waiting as Extract<Waiting, { reason: "budget" }>;
    const needed = roundUsd(waiting.spentUsd + waiting.nextCallUsd);
    const audit = (action: string, after: Record<string, unknown>): PendingAudit => ({
      context: request.audit,
      entry: { action, resourceType: "execution", resourceId: record.id, after: { stepId: step.stepId, ...after } },
    });
    if (!request.approved) {
      const comment = request.comment ? `: ${request.comment}` : "";
      this.fail(
        definition,
        step,
        {
          message: `the next model call could take the execution over its cost budget of $${waiting.budgetUsd}; rejected${comment}`,
          reason: "budget_exceeded",
          retryable: false,
        },
        undefined,
        audit("execution.budget.reject", { budgetUsd: waiting.budgetUsd, comment: request.comment }),
      );
      this.schedule();
      return { ok: true, status: record.status };
    }
    if (request.raiseBudgetUsd === null || request.raiseBudgetUsd < needed) {
      return {
        ok: false,
        code: "VALIDATION",
        message: "Continuing a step that waits for its budget takes a higher budget",
        details: [
          {
            path: "raiseBudgetUsd",
            message: `must be at least ${needed} (spent ${waiting.spentUsd} plus up to ${waiting.nextCallUsd} for the next call)`,
          },
        ],
      };
    }
    record.costBudgetUsd = request.raiseBudgetUsd;
    this.saveRecord();
    this.auditNext = audit("execution.budget.raise", { from: waiting.budgetUsd, to: request.raiseBudgetUsd });
    this.emit("log", step.stepId, { reason: "budget_raised", from: waiting.budgetUsd, to: request.raiseBudgetUsd });
    this.resumeSuspended(step);
    return { ok: true, status: record.status };
  }

  /** A step waiting without a consumer goes back to the queue, resuming from its checkpoint. */
  protected resumeSuspended(step: StepState): void {
    step.status = "running";
    step.waiting = null;
    step.dispatch = { sent: false, sends: 0, claims: 0, sendFailures: 0 };
    this.emit("step.started", step.stepId, { type: step.type, attempt: step.attempt, resumed: true });
    this.store.putStep(step);
    this.enqueue(step);
  }

  /**
   * A child execution started by an agent step has ended. Results are kept even if they arrive
   * before the step has finished suspending; the step resumes once every child has answered.
   */
  childFinished(stepId: string, result: ChildResult): boolean {
    const step = this.store.step(stepId);
    if (!this.record || isTerminalExecution(this.record.status) || !step) return true;
    if (step.status !== "running" && step.status !== "waiting") return true;
    step.children ??= { waitingFor: [], results: {} };
    if (step.children.results[result.executionId]) return true;
    // A workflow step takes its child's whole output; an agent reads a bounded part of it.
    const whole = this.definitionOf(stepId)?.type === "workflow";
    step.children.results[result.executionId] = whole ? storable(result) : boundedChildResult(storable(result));
    this.emit("log", stepId, { reason: "child_finished", executionId: result.executionId, status: result.status });
    this.store.putStep(step);
    this.resumeIfAnswered(step);
    this.schedule();
    return true;
  }

  protected resumeIfAnswered(step: StepState): void {
    if (step.status !== "waiting" || step.waiting?.reason !== "children" || !step.children) return;
    const { waitingFor, results } = step.children;
    if (!waitingFor.every(({ executionId }) => results[executionId])) return;
    this.store.deleteTimer({ kind: "children", stepId: step.stepId });
    const definition = this.definitionOf(step.stepId);
    if (definition?.type === "workflow") this.settleFromChild(definition, step, results[waitingFor[0].executionId]);
    else this.resumeSuspended(step);
  }

  /**
   * A `workflow` step ends with its child: the child's output, or its failure (retried by the
   * step's policy, each retry a new child).
   */
  private settleFromChild(definition: Step, step: StepState, child: ChildResult): void {
    if (child.status === "completed") {
      // The child's large values (its whole output, or a sink step's) live under its own keys: the
      // step keeps its own copy (stored again, in R2 if still large).
      this.succeed(definition, step, this.inlined(child.output));
      return;
    }
    const cause = (child.error as { message?: string } | null)?.message;
    this.fail(definition, step, {
      message: `the child execution ${child.executionId} ${child.status}${cause ? `: ${cause}` : ""}`,
      reason: child.status === "cancelled" ? "child_cancelled" : "child_failed",
      retryable: true,
    });
  }
}

function isRef(value: unknown): value is OffloadRef {
  return !!value && typeof value === "object" && typeof (value as OffloadRef).$ref === "string";
}
