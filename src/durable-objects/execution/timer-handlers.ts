/**
 * The handlers of the object's timers (docs/engine.md), which its alarm fires. A timer is removed
 * only with its handler's successful work (a machine timer in the same storage transaction as its
 * transition); a handler that fails leaves its timer to fire again after a backoff, and the failure
 * is logged on the execution (counted as `ipa_timer_failures_total`), so no retry, delay or timeout
 * is ever lost to one failure.
 */
import type { Bindings } from "../../env";
import { describeError } from "../../observability/describe-error";
import { logEvent } from "../../observability/log";
import { askChild, cancelChild, tellParent } from "./family";
import type { ExecutionMachine } from "./machine";
import type { ExecutionStore } from "./store";
import { type ScheduledTimer, type TimerKind, type TimerOf, timerBackoffMs, timerKey } from "./timers";
import { closeRevokedViewers, VIEWER_CHECK_MS } from "./viewer-check";
import { viewersOf } from "./viewers";

/** A timer as it fired: which one, when it was due, how often its handler had failed. */
type Fired<K extends TimerKind> = ScheduledTimer & { timer: TimerOf<K> };
/** The timers whose handler is the machine's. */
type MachineTimerKind = "retry" | "wait" | "dispatch" | "lease" | "step_timeout" | "execution_timeout" | "children";

/** What the handlers need of their object (its Workers adapter). */
export interface TimerHost {
  ctx: DurableObjectState;
  env: Bindings;
  /** The object's store as it is now (a retirement replaces it). */
  store(): ExecutionStore;
  /** Runs one command of the machine through the object's one path for changes. */
  transition<T>(change: (machine: ExecutionMachine) => T): Promise<T>;
  armAlarm(): void;
  /** Drains the outbox to Postgres. */
  flush(): Promise<void>;
  /** Frees the storage of an ended, flushed execution. */
  retire(): Promise<void>;
}

export class TimerHandlers {
  constructor(private readonly host: TimerHost) {}

  /** Fires every due timer that is still armed as it was. */
  async fireDue(): Promise<void> {
    for (const scheduled of this.host.store().dueTimers(Date.now())) {
      const current = this.host.store().timer(timerKey(scheduled.timer));
      if (current?.due !== scheduled.due) continue;
      try {
        await this.fire(scheduled);
      } catch (error) {
        await this.timerFailed(scheduled, error);
      }
    }
  }

  /** Every timer kind's handler: the machine's own (removed in its transition), or I/O the object does itself. */
  private readonly handlers: { [K in TimerKind]: (fired: Fired<K>) => Promise<unknown> } = {
    retry: (fired) => this.onMachineTimer(fired),
    wait: (fired) => this.onMachineTimer(fired),
    dispatch: (fired) => this.onMachineTimer(fired),
    lease: (fired) => this.onMachineTimer(fired),
    step_timeout: (fired) => this.onMachineTimer(fired),
    execution_timeout: (fired) => this.onMachineTimer(fired),
    children: (fired) => this.pollChildren(fired),
    flush: (fired) => this.afterward(fired, this.host.flush()),
    notify_parent: (fired) => this.afterward(fired, this.notifyParent(fired.timer.tries)),
    cancel_children: (fired) => this.cancelChildren(fired),
    retire: (fired) => this.afterward(fired, this.host.retire()),
    viewers: (fired) => this.afterward(fired, this.checkViewers()),
  };

  /** A machine timer's transition, which removes the timer it handles. */
  private onMachineTimer(fired: Fired<MachineTimerKind>): Promise<void> {
    return this.host.transition((machine) => {
      this.host.store().deleteFiredTimer(fired);
      machine.onTimer(fired.timer);
    });
  }

  /** An I/O handler's timer is removed once its work is done (unless the work armed it again). */
  private async afterward(fired: ScheduledTimer, work: Promise<unknown>): Promise<void> {
    await work;
    this.host.ctx.storage.transactionSync(() => this.host.store().deleteFiredTimer(fired));
  }

  /** The handler failed: its timer fires again after a backoff, and the execution's log says so. */
  private async timerFailed(fired: ScheduledTimer, error: unknown): Promise<void> {
    const failures = fired.failures + 1;
    const retryInMs = timerBackoffMs(failures);
    this.host.ctx.storage.transactionSync(() => {
      // Unless the handler got far enough to arm it again itself.
      if (this.host.store().timer(timerKey(fired.timer))?.due === fired.due)
        this.host.store().setTimer(fired.timer, Date.now() + retryInMs, failures);
    });
    const detail = describeError(error);
    logEvent("error", "timer_failed", {
      executionId: this.host.store().execution()?.id,
      timer: fired.timer.kind,
      failures,
      ...detail,
    });
    await this.host.transition((machine) => machine.noteTimerFailure(fired.timer, failures, retryInMs)).catch(() => {});
  }

  /** Drops viewers who may no longer watch; checks again while any socket is open. */
  private async checkViewers(): Promise<void> {
    const record = this.host.store().execution();
    if (!record || viewersOf(this.host.ctx).length === 0) return;
    await closeRevokedViewers(this.host.ctx, this.host.env, record);
    this.host.ctx.storage.transactionSync(() =>
      this.host.store().setTimer({ kind: "viewers" }, Date.now() + VIEWER_CHECK_MS),
    );
    this.host.armAlarm();
  }

  private fire(fired: ScheduledTimer): Promise<unknown> {
    return (this.handlers[fired.timer.kind] as (fired: ScheduledTimer) => Promise<unknown>)(fired);
  }

  /** Asks the children a step waits for, in case one's notification was lost. */
  private async pollChildren(fired: Fired<"children">): Promise<void> {
    const { timer } = fired;
    const step = this.host.store().step(timer.stepId);
    for (const { executionId } of step?.children?.waitingFor ?? []) {
      if (step?.children?.results[executionId]) continue;
      const result = await askChild(this.host.env, executionId);
      if (result) await this.host.transition((machine) => machine.childFinished(timer.stepId, result));
    }
    await this.onMachineTimer(fired);
  }

  /** Cancels the children the ended steps were waiting for; those not yet cancelled are tried again. */
  private async cancelChildren(fired: Fired<"cancel_children">): Promise<void> {
    const parentId = this.host.store().execution()?.id ?? "";
    const left: string[] = [];
    for (const executionId of fired.timer.executionIds) {
      const done = await cancelChild(this.host.env, executionId, parentId).catch(() => false);
      if (!done) left.push(executionId);
    }
    this.host.ctx.storage.transactionSync(() => {
      const store = this.host.store();
      // Children added while these were being cancelled re-armed the timer: keep them.
      const armed = store.timer("cancel_children")?.timer as TimerOf<"cancel_children"> | undefined;
      const added = (armed?.executionIds ?? []).filter((id) => !fired.timer.executionIds.includes(id));
      if (left.length === 0 && added.length === 0) store.deleteFiredTimer(fired);
      else if (left.length === 0) store.setTimer({ kind: "cancel_children", executionIds: added }, Date.now());
      else {
        const failures = fired.failures + 1;
        const executionIds = [...left, ...added];
        store.setTimer({ kind: "cancel_children", executionIds }, Date.now() + timerBackoffMs(failures), failures);
      }
    });
    this.host.armAlarm();
  }

  /** Tells the parent execution's agent step that this child ended, until it has listened. */
  private async notifyParent(tries: number): Promise<void> {
    const record = this.host.store().execution();
    if (!record?.parent) return;
    try {
      if (await tellParent(this.host.env, record)) return;
    } catch (error) {
      logEvent("warn", "parent_notification_failed", { executionId: record.id, tries, ...describeError(error) });
    }
    this.host.ctx.storage.transactionSync(() =>
      this.host
        .store()
        .setTimer({ kind: "notify_parent", tries: tries + 1 }, Date.now() + Math.min(1000 * 2 ** tries, 60_000)),
    );
    this.host.armAlarm();
  }
}
