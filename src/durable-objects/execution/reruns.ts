/** Reruns (docs/engine.md): a step and everything downstream of it run again, or the plan of it. */
import { storable } from "../../engine/storable-text";
import { isTerminalExecution } from "../../engine/vocabulary";
import { type Definition, stepKind } from "../../steps/definition";
import { parseSubStepId } from "../../steps/inner";
import { CompensationTransitions } from "./compensation";
import { planRerun, sideEffectsOf } from "./rerun-plan";
import { conflict, notFound, notStarted, type RerunPlan, type RerunRequest, type RerunResult } from "./rpc";
import { freshStep, restartedStep } from "./step-data";
import type { PendingAudit } from "./types";

export abstract class RerunTransitions extends CompensationTransitions {
  /** Runs `fromStep` and everything downstream of it again (docs/engine.md), or answers the plan. */
  rerun(request: RerunRequest): RerunResult {
    const record = this.record;
    if (!record) return notStarted();
    if (!isTerminalExecution(record.status))
      return conflict(`Only a completed, failed or cancelled execution can be rerun (it is ${record.status})`);
    const definition = request.version?.definition ?? record.definition;
    if (!definition.steps.some((step) => step.id === request.fromStep)) return notFound("Step");
    const inputChanged = request.input !== undefined && JSON.stringify(request.input) !== JSON.stringify(record.input);
    const plan = this.planFor([request.fromStep], definition, inputChanged);
    const rerunPlan = this.describePlan(
      plan,
      definition,
      request.fromStep,
      request.version?.versionNumber ?? record.versionNumber,
    );
    if (request.dryRun) return { ok: true, plan: rerunPlan, status: record.status };
    if (request.version) {
      record.definition = request.version.definition;
      record.workflowVersionId = request.version.workflowVersionId;
      record.versionNumber = request.version.versionNumber;
    }
    if (inputChanged) record.input = storable(request.input);
    this.store.putAgents(request.agents);
    const audit: PendingAudit = {
      context: request.audit,
      entry: {
        action: "execution.rerun",
        resourceType: "execution",
        resourceId: record.id,
        before: { status: record.status, run: record.run },
        after: { fromStep: request.fromStep, version: record.versionNumber, rerun: plan.rerun, keep: plan.keep },
      },
    };
    this.applyRerun(
      plan,
      definition,
      audit,
      { fromStep: request.fromStep, version: record.versionNumber },
      request.actingUserId,
    );
    return { ok: true, plan: { ...rerunPlan, run: this.requireRecord().run }, status: this.requireRecord().status };
  }

  /** What runs again; steps whose effects were compensated (undone) always do. */
  protected planFor(roots: string[], definition: Definition, inputChanged: boolean) {
    const record = this.requireRecord();
    const compensated = record.compensation?.completed ?? [];
    return planRerun({
      definition,
      previous: record.definition,
      states: this.store.topSteps(),
      roots: [...roots, ...compensated.filter((stepId) => definition.steps.some((step) => step.id === stepId))],
      inputChanged,
    });
  }

  private describePlan(
    plan: { keep: string[]; rerun: string[] },
    definition: Definition,
    fromStep: string,
    versionNumber: number,
  ): RerunPlan {
    const byId = new Map(definition.steps.map((step) => [step.id, step]));
    const compensation = this.requireRecord().compensation;
    return {
      run: this.requireRecord().run + 1,
      compensated: compensation?.completed ?? [],
      compensationFailed: compensation?.failed.map(({ stepId }) => stepId) ?? [],
      fromStep,
      versionNumber,
      keep: plan.keep,
      rerun: plan.rerun.map((stepId) => {
        const type = byId.get(stepId)?.type ?? "transform";
        return { stepId, type, sideEffects: stepKind(type).sideEffects };
      }),
      sideEffects: sideEffectsOf(definition, plan.rerun),
    };
  }

  /** Starts the next run: the planned steps start over (new idempotency keys), the rest keep their outputs. */
  protected applyRerun(
    plan: { keep: string[]; rerun: string[] },
    definition: Definition,
    audit: PendingAudit,
    data: Record<string, unknown>,
    actingUserId: string | null,
  ): void {
    const record = this.requireRecord();
    record.run += 1;
    // Running again: its storage is needed until it ends again (and its outbox flushed).
    this.store.deleteTimer({ kind: "retire" });
    // The new run is the requester's: its workflow tools and children authorise as them.
    if (actingUserId) record.actingUserId = actingUserId;
    record.definition = definition;
    record.status = "running";
    record.completedAt = null;
    record.error = null;
    record.output = null;
    record.compensation = null;
    this.saveRecord();
    this.emit(
      "execution.running",
      null,
      { ...data, run: record.run, rerun: plan.rerun, keep: plan.keep },
      "info",
      null,
      audit,
    );
    // Gone: steps the new version lacks, the sub-steps of containers that run again, and every
    // compensation (the new run compensates afresh if it fails).
    const wanted = new Set(definition.steps.map((step) => step.id));
    const removed = this.store
      .steps()
      .filter((step) => {
        const place = parseSubStepId(step.stepId);
        if (!place) return !wanted.has(step.stepId);
        return place.n === "compensate" || !wanted.has(place.containerId) || plan.rerun.includes(place.containerId);
      })
      .map((step) => step.stepId);
    for (const stepId of removed) this.store.deleteStep(stepId);
    if (removed.length) this.store.putRemovedSteps([...new Set([...this.store.removedSteps(), ...removed])]);
    for (const step of definition.steps) {
      if (!plan.rerun.includes(step.id)) continue;
      const state = this.store.step(step.id);
      const next = state && state.type === step.type ? restartedStep(state, record.run) : freshStep(step, record.run);
      this.emit(
        "log",
        step.id,
        { reason: "rerun", run: record.run },
        "info",
        `step will run again (run ${record.run})`,
      );
      this.store.putStep(next);
      this.store.deleteStepTimers(step.id);
      this.store.deleteAttemptProgress(step.id);
    }
    this.armExecutionTimeout();
    this.schedule();
  }
}
