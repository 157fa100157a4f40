/**
 * The state an execution's transitions work on (transitions.ts, then the step types' commands in
 * machine.ts): the store, the record, the effects a command leaves for the object to carry out
 * once it has committed, and the helpers every transition shares — appending events with their
 * audit rows, saving the record, the template scope, the status and timeout of the execution.
 */

import type { AgentState, TokenUsage } from "../../agents/state";
import type { AuditEntry } from "../../audit/record";
import { LazyValue, type Scope } from "../../engine/paths";
import type { ExecutionStatus } from "../../engine/vocabulary";
import { isTerminalExecution } from "../../engine/vocabulary";
import type { Span } from "../../observability/tracing/spans";
import { type Step, stepKind } from "../../steps/definition";
import { parseSubStepId } from "../../steps/inner";
import { checkpointPrefix, type LargeValues, type OffloadRef } from "../../steps/large-values";
import { countUsage } from "./attempt-usage";
import { scopeOf, sinkOutputs } from "./step-data";
import type { ExecutionStore } from "./store";
import type { EventName, ExecutionEvent, ExecutionRecord, PendingAudit, StepState } from "./types";

export interface Effects {
  /** Step messages to send once this transition has committed (or attempts to run in the object). */
  enqueue: Array<{
    stepId: string;
    attempt: number;
    idempotencyKey: string;
    /** The run's first attempt of a type that allows it, never claimed nor sent: the object may run it. */
    inObject: boolean;
  }>;
  events: ExecutionEvent[];
  finished: boolean;
  /** Trace spans of the work this transition ended, to export once it has committed. */
  spans: Span[];
}

export abstract class ExecutionState {
  readonly effects: Effects = { enqueue: [], events: [], finished: false, spans: [] };
  protected readonly store: ExecutionStore;
  protected readonly values: LargeValues;
  protected readonly now: number;
  protected record: ExecutionRecord | null;
  /** An audit row for the step change a step type makes next (a decision, a delivered event). */
  protected auditNext: PendingAudit | null = null;
  /** Whether spans are wanted (OTEL_EXPORTER_OTLP_ENDPOINT set): without it none are built. */
  protected readonly traced: boolean;

  constructor(store: ExecutionStore, values: LargeValues, now: number, traced = false) {
    this.store = store;
    this.values = values;
    this.now = now;
    this.traced = traced;
    this.record = store.execution();
  }

  get execution(): ExecutionRecord | null {
    return this.record;
  }

  protected setStatus(status: ExecutionStatus, audit: PendingAudit): void {
    const record = this.requireRecord();
    record.status = status;
    this.saveRecord();
    this.emit(`execution.${status}`, null, {}, "info", null, audit);
  }

  protected armExecutionTimeout(): void {
    const seconds = this.record?.definition.timeoutSeconds;
    if (seconds) this.store.setTimer({ kind: "execution_timeout" }, this.now + seconds * 1000);
  }
  // -- helpers ------------------------------------------------------------------------------------

  protected takeAudit(): PendingAudit | undefined {
    const audit = this.auditNext ?? undefined;
    this.auditNext = null;
    return audit;
  }

  /** Appends an event; once the execution has ended, nothing but its end is appended. */
  protected emit(
    event: EventName,
    stepId: string | null,
    data: unknown,
    level: ExecutionEvent["level"] = "info",
    message: string | null = null,
    audit?: PendingAudit,
  ): void {
    if (this.record && isTerminalExecution(this.record.status) && event !== `execution.${this.record.status}`) return;
    const appended = this.store.appendEvent({ at: this.iso(), event, stepId, level, message, data });
    if (audit) {
      const after = audit.entry.after ?? { status: this.record?.status, event };
      this.store.putAudit(appended.seq, { ...audit, entry: { ...audit.entry, after } satisfies AuditEntry });
    }
    this.effects.events.push(appended);
  }

  /** Counts an attempt's tokens and cost once: `usage` is the attempt's total so far. */
  protected countAttemptUsage(step: StepState, usage: TokenUsage | undefined): void {
    if (!usage) return;
    countUsage(step, this.requireRecord(), usage);
    this.saveRecord();
  }

  /** An agent attempt's checkpoint, read back from R2 when it is large (StorageNeeded until it is loaded). */
  protected checkpointOf(stepId: string, attempt: number): AgentState | null {
    const stored = this.store.checkpoint(stepId, attempt);
    if (stored && "$ref" in stored) return this.values.load(stored as OffloadRef) as AgentState;
    return stored as AgentState | null;
  }

  /** Keeps an agent attempt's checkpoint: inline when small, else in R2 under a key named by its content. */
  protected saveCheckpoint(stepId: string, attempt: number, state: AgentState): void {
    const record = this.requireRecord();
    const stored = this.values.storeByContent(checkpointPrefix(record.id, stepId, attempt), state);
    this.store.putCheckpoint(stepId, attempt, stored as AgentState | OffloadRef);
  }

  protected scope(): Scope {
    return scopeOf(this.requireRecord(), this.store.topSteps(), (ref) => this.values.load(ref));
  }

  /**
   * What `step` may read: the execution's scope, and for a sub-step its local names (a map item's
   * `item` and `index`, a loop iteration's `iteration` and `last`).
   */
  protected scopeFor(step: StepState): Scope {
    const scope = this.scope();
    const place = parseSubStepId(step.stepId);
    if (!place || place.n === "compensate") return scope;
    const container = this.store.step(place.containerId);
    const n = place.n;
    if (container?.type === "map") {
      const items = container.inputRef
        ? new LazyValue(() => (this.values.load(container.inputRef as OffloadRef) as unknown[])[n])
        : (container.input as unknown[])[n];
      return { ...scope, item: items, index: n };
    }
    return { ...scope, iteration: n, last: n > 1 ? this.outputOf(`${place.containerId}[${n - 1}]`) : null };
  }

  /** A step's output (read back from R2 when large); null when it has none. */
  protected outputOf(stepId: string): unknown {
    const step = this.store.step(stepId);
    if (!step) return null;
    return step.outputRef ? this.values.load(step.outputRef) : step.output;
  }

  protected sinkOutputs(): Record<string, unknown> {
    return sinkOutputs(this.requireRecord(), this.store.topSteps());
  }

  /**
   * A step's definition; a sub-step's is its container's inner step (or the compensation of the
   * step it undoes) placed at the sub-step's id, with no dependencies.
   */
  protected definitionOf(stepId: string): Step | undefined {
    const steps = this.record?.definition.steps;
    const place = parseSubStepId(stepId);
    if (!place) return steps?.find((step) => step.id === stepId);
    const container = steps?.find((step) => step.id === place.containerId);
    if (!container) return undefined;
    const kind = stepKind(container.type);
    const inner =
      place.n === "compensate"
        ? "compensate" in container
          ? container.compensate
          : undefined
        : kind.mode === "container"
          ? kind.inner(container as never)
          : undefined;
    return inner ? ({ ...inner, id: stepId, dependsOn: [], continueOnError: false } as Step) : undefined;
  }

  protected requireRecord(): ExecutionRecord {
    if (!this.record) throw new Error("execution not started");
    return this.record;
  }

  protected saveRecord(): void {
    this.store.putExecution(this.requireRecord());
  }

  protected iso(offsetMs = 0): string {
    return new Date(this.now + offsetMs).toISOString();
  }
}
