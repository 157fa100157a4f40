/**
 * Which steps a rerun runs again and which keep their outputs (docs/engine.md). Pure: the object applies
 * the plan, and `dryRun` answers it unchanged.
 */

import { downstreamOf } from "../../engine/graph";
import { type Definition, stepKind } from "../../steps/definition";
import { readsInput } from "../../steps/step-references";
import type { StepState } from "./types";

export interface PlanInput {
  /** The definition the new run uses, and the one the last run used. */
  definition: Definition;
  previous: Definition;
  states: StepState[];
  /** Steps that must run again (fromStep, or a retry's failed steps). */
  roots: string[];
  inputChanged: boolean;
}

export interface Plan {
  keep: string[];
  rerun: string[];
}

/** Skipped for a reason that the kept steps still stand behind (a condition's branch). */
const KEPT_SKIPS = new Set(["branch_not_taken", "dependency_skipped"]);

export function planRerun(input: PlanInput): Plan {
  const steps = input.definition.steps;
  const before = new Map(input.previous.steps.map((step) => [step.id, step]));
  const states = new Map(input.states.map((state) => [state.stepId, state]));
  const forced = new Set(input.roots);
  for (const step of steps) {
    const old = before.get(step.id);
    const state = states.get(step.id);
    // New steps, steps whose type changed, and steps that never finished well run again.
    if (!old || old.type !== step.type || !state) forced.add(step.id);
    else if (!(state.status === "completed" || (state.status === "skipped" && KEPT_SKIPS.has(state.skipReason ?? ""))))
      forced.add(step.id);
    if (input.inputChanged && readsInput(step)) forced.add(step.id);
  }
  const rerun = downstreamOf(steps, forced);
  return {
    keep: steps.filter((step) => !rerun.has(step.id)).map((step) => step.id),
    rerun: steps.filter((step) => rerun.has(step.id)).map((step) => step.id),
  };
}

export function sideEffectsOf(definition: Definition, stepIds: string[]): string[] {
  const byId = new Map(definition.steps.map((step) => [step.id, step]));
  return stepIds.filter((id) => {
    const step = byId.get(id);
    return step ? stepKind(step.type).sideEffects : false;
  });
}
