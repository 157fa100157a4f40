/**
 * Maps and loops (docs/workflows.md "Control flow"): a container step runs its inner step as
 * sub-steps `<id>[<n>]`, each an ordinary step of the execution (its own attempts, retries, key,
 * timers, lease, events and row), so every guarantee of the engine holds per item and per
 * iteration. Sub-steps are made as they start, never all at once; a sub-step that ends only
 * counts itself into its container's progress, and `advanceContainers` (run by every schedule)
 * starts what may start and ends what is done, iteratively, however many items end in one command.
 */
import { ExpressionError } from "../../engine/expression";
import { PathError } from "../../engine/paths";
import { storable } from "../../engine/storable-text";
import { TemplateError } from "../../engine/template";
import type { StepError } from "../../engine/vocabulary";
import type { Step } from "../../steps/definition";
import { parseSubStepId, subStepId } from "../../steps/inner";
import { inputKey, type OffloadRef, ValueTooLargeError } from "../../steps/large-values";
import { loopEnds } from "../../steps/loop";
import type { LoopStep } from "../../steps/loop/definition";
import { mapItems, NotAList } from "../../steps/map";
import type { MapStep } from "../../steps/map/definition";
import { freshStep } from "./step-data";
import { SuspendedStepTransitions } from "./suspensions";
import type { ContainerProgress, StepState } from "./types";

export abstract class ContainerTransitions extends SuspendedStepTransitions {
  protected startContainer(definition: Step, step: StepState): void {
    step.idempotencyKey ??= crypto.randomUUID();
    step.progress = { total: null, started: 0, running: 0, completed: 0, failed: 0, stopping: false };
    switch (definition.type) {
      case "map":
        this.startMap(definition, step);
        return;
      case "loop":
        this.store.putStep(step);
        this.startSubStep(step, 1);
        return;
      default:
        throw new Error(`${definition.type} steps are not containers`);
    }
  }

  /**
   * Each running container starts what it may and ends once done, until it has nothing more to
   * do in this command (sub-steps that end at once, transforms, make room for the next). Counts
   * are read back from the store each round: an ending sub-step writes them there. True when
   * anything changed.
   */
  protected advanceContainers(): boolean {
    let changed = false;
    for (const definition of this.requireRecord().definition.steps) {
      if (definition.type !== "map" && definition.type !== "loop") continue;
      // Read once when there is nothing to do (every command passes here); again after each act.
      let step = this.store.step(definition.id);
      if (step?.status !== "running" || !step.progress) continue;
      const before = JSON.stringify(step.progress);
      while (step?.status === "running" && step.progress) {
        const acted =
          definition.type === "map" ? this.advanceMap(definition, step) : this.advanceLoop(definition, step);
        if (!acted) break;
        changed = true;
        if (this.record?.status !== "running") return true;
        step = this.store.step(definition.id);
      }
      if (step?.status === "running" && JSON.stringify(step.progress) !== before) this.emitProgress(step);
    }
    return changed;
  }

  protected subStepEnded(sub: StepState): void {
    const place = parseSubStepId(sub.stepId);
    if (!place) return;
    if (place.n === "compensate") {
      this.compensationEnded(sub);
      return;
    }
    const container = this.store.step(place.containerId);
    const definition = this.definitionOf(place.containerId);
    if (container?.status !== "running" || !container.progress || !definition) return;
    const progress = container.progress;
    progress.running = Math.max(0, progress.running - 1);
    if (sub.status === "completed") progress.completed += 1;
    else {
      progress.failed += 1;
      if (!definition.continueOnError) progress.stopping = true;
    }
    this.store.putStep(container);
  }

  // -- map ------------------------------------------------------------------------------------------

  private startMap(definition: MapStep, step: StepState): void {
    let items: unknown[];
    try {
      items = mapItems(definition, this.scope());
    } catch (error) {
      if (!(error instanceof NotAList)) throw error;
      this.fail(definition, step, { message: error.message, reason: "not_a_list", retryable: false });
      return;
    }
    if (items.length > definition.maxItems) {
      this.fail(definition, step, {
        message: `${items.length} items; this map takes at most ${definition.maxItems} (maxItems)`,
        reason: "too_many_items",
        retryable: false,
      });
      return;
    }
    const clean = storable(items);
    let stored: unknown;
    try {
      stored = this.values.store(inputKey(this.requireRecord().id, step.stepId, step.attempt), clean);
    } catch (error) {
      if (!(error instanceof ValueTooLargeError)) throw error;
      this.fail(definition, step, {
        message: `the items are too large: ${error.message}`,
        reason: "too_large",
        retryable: false,
      });
      return;
    }
    step.input = stored;
    step.inputRef = stored === clean ? null : (stored as OffloadRef);
    (step.progress as ContainerProgress).total = items.length;
    this.store.putStep(step);
    this.emitProgress(step);
  }

  /** Starts the next item while fewer than `concurrency` run, or ends the map once every started item has settled. */
  private advanceMap(definition: MapStep, step: StepState): boolean {
    const progress = step.progress as ContainerProgress;
    const total = progress.total ?? 0;
    if (!progress.stopping && progress.running < definition.concurrency && progress.started < total) {
      const index = progress.started;
      progress.started += 1;
      progress.running += 1;
      this.store.putStep(step);
      this.startSubStep(step, index);
      return true;
    }
    if (progress.running > 0 || (progress.started < total && !progress.stopping)) return false;
    this.endMap(definition, step, total);
    return true;
  }

  private endMap(definition: MapStep, step: StepState, total: number): void {
    // The final counts, before the step ends (a watcher's last progress line says how it went).
    this.emitProgress(step);
    const outputs: unknown[] = new Array(total).fill(null);
    const failed: Array<{ index: number; error: StepError | null }> = [];
    for (const sub of this.store.subSteps(step.stepId)) {
      const place = parseSubStepId(sub.stepId);
      if (!place || place.n === "compensate") continue;
      // A large item output stays in R2 as its reference (with a preview); …/steps/<id>[<n>]/output reads it whole.
      if (sub.status === "completed") outputs[place.n] = sub.output;
      else if (sub.status === "failed") failed.push({ index: place.n, error: sub.error });
    }
    failed.sort((a, b) => a.index - b.index);
    const progress = step.progress as ContainerProgress;
    if (failed.length > 0 && !definition.continueOnError) {
      const first = failed[0];
      const notRun = total - progress.started;
      this.fail(definition, step, {
        message: `item ${first.index} failed: ${first.error?.message ?? "unknown error"}${notRun ? ` (${notRun} items not run)` : ""}`,
        reason: "item_failed",
        retryable: false,
      });
      return;
    }
    this.succeed(definition, step, { items: outputs, failed, count: total });
  }

  // -- loop -----------------------------------------------------------------------------------------

  /** After an iteration ends: done when `until` holds, failed at `maxIterations`, else the next (after `delaySeconds`). */
  private advanceLoop(definition: LoopStep, step: StepState): boolean {
    const progress = step.progress as ContainerProgress;
    if (progress.running > 0) return false;
    const iteration = progress.started;
    const last = this.store.step(subStepId(step.stepId, iteration));
    if (!last) return false;
    this.continueLoop(definition, step, iteration, last);
    return true;
  }

  private continueLoop(definition: LoopStep, step: StepState, iteration: number, last: StepState): void {
    if (last.status === "failed") {
      this.emitProgress(step);
      this.fail(definition, step, {
        message: `iteration ${iteration} failed: ${last.error?.message ?? "unknown error"}`,
        reason: "iteration_failed",
        retryable: false,
      });
      return;
    }
    const output = this.outputOf(last.stepId);
    let ends: boolean;
    try {
      ends = loopEnds(definition, this.scope(), iteration, output);
    } catch (error) {
      if (!(error instanceof ExpressionError || error instanceof PathError || error instanceof TemplateError))
        throw error;
      this.emitProgress(step);
      this.fail(definition, step, { message: `until: ${error.message}`, reason: "expression_error", retryable: false });
      return;
    }
    if (ends) {
      this.emitProgress(step);
      this.succeed(definition, step, { last: output, iterations: iteration });
      return;
    }
    if (iteration >= definition.maxIterations) {
      this.emitProgress(step);
      this.fail(definition, step, {
        message: `"until" did not hold after ${iteration} iterations (maxIterations)`,
        reason: "loop_limit",
        retryable: false,
      });
      return;
    }
    const delayMs = (definition.delaySeconds ?? 0) * 1000;
    if (delayMs > 0) this.delaySubStep(step, iteration + 1, delayMs);
    else this.startSubStep(step, iteration + 1);
  }

  // -- sub-steps ------------------------------------------------------------------------------------

  /** Makes sub-step `n` and starts it, keyed by its container's key and its number. */
  private startSubStep(container: StepState, n: number): void {
    const sub = this.freshSubStep(container, n);
    if (container.type === "loop") {
      (container.progress as ContainerProgress).started = n;
      (container.progress as ContainerProgress).running += 1;
      this.store.putStep(container);
    }
    const definition = this.definitionOf(sub.stepId);
    if (!definition) throw new Error(`no definition for ${sub.stepId}`);
    this.startStep(definition, sub);
  }

  /** Makes the loop's next iteration, waiting `delayMs` (a durable timer) before it starts. */
  private delaySubStep(container: StepState, n: number, delayMs: number): void {
    const sub = this.freshSubStep(container, n);
    const progress = container.progress as ContainerProgress;
    progress.started = n;
    progress.running += 1;
    this.store.putStep(container);
    this.wait(sub, { reason: "delay", until: this.iso(delayMs) }, delayMs);
  }

  private freshSubStep(container: StepState, n: number): StepState {
    const inner = this.definitionOf(subStepId(container.stepId, n));
    if (!inner) throw new Error(`${container.stepId} has no inner step`);
    const sub = freshStep({ id: inner.id, type: inner.type }, container.run);
    sub.idempotencyKey = `${container.idempotencyKey}[${n}]`;
    this.store.putStep(sub);
    return sub;
  }

  /**
   * A sub-step's pause ended (a retry's delay, a loop's wait between iterations): it starts now, or
   * once the execution resumes. False for a step of the definition (the schedule starts those).
   */
  protected wakeSubStep(sub: StepState): boolean {
    const definition = parseSubStepId(sub.stepId) ? this.definitionOf(sub.stepId) : undefined;
    if (!definition) return false;
    if (this.record?.status === "paused") {
      sub.status = "pending";
      sub.waiting = null;
      this.store.putStep(sub);
    } else this.startStep(definition, sub);
    return true;
  }

  /** On resume: the sub-steps whose pause ended while the execution was paused. */
  protected startPendingSubSteps(): void {
    for (const sub of this.store.steps()) {
      const definition = parseSubStepId(sub.stepId) && sub.status === "pending" ? this.definitionOf(sub.stepId) : null;
      if (definition) this.startStep(definition, sub);
    }
  }

  /** A compensation sub-step ended (compensation.ts). */
  protected abstract compensationEnded(sub: StepState): void;

  private emitProgress(step: StepState): void {
    const { total, started, running, completed, failed } = step.progress as ContainerProgress;
    this.emit("step.progress", step.stepId, { type: step.type, total, started, running, completed, failed });
  }
}
