/**
 * The execution Durable Object's SQLite storage: the execution record, one row per step, the
 * append-only event log (which doubles as the outbox to Postgres), pending audit rows, buffered
 * events, agent checkpoints, and the typed timers that share the object's single alarm. Every
 * method is synchronous; the object runs each transition inside `transactionSync`, so a
 * transition either commits whole or leaves storage as it was.
 */
import type { AgentSnapshot } from "../../agents/snapshot";
import type { AgentState } from "../../agents/state";
import type { OffloadRef } from "../../steps/large-values";
import { EventInbox } from "./inbox";
import { StreamedTextStore } from "./streamed-text";
import type { ScheduledTimer, Timer, TimerKind } from "./timers";
import { timerKey } from "./timers";
import type { ExecutionEvent, ExecutionRecord, PendingAudit, StepState } from "./types";

type Row = Record<string, SqlStorageValue>;

export class ExecutionStore {
  private readonly sql: SqlStorage;

  /** The text each running agent attempt has streamed so far. */
  readonly streamedText: StreamedTextStore;
  /** Events delivered before their step waits, and the answers to deliveries with a key. */
  readonly inbox: EventInbox;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    this.streamedText = new StreamedTextStore(sql);
    this.inbox = new EventInbox(sql);
    this.sql.exec(`
      create table if not exists meta (key text primary key, value text not null);
      create table if not exists steps (step_id text primary key, updated_seq integer not null, data text not null);
      create table if not exists events (
        seq integer primary key, at text not null, event text not null, step_id text,
        level text not null, message text, data text);
      create table if not exists audits (seq integer primary key, data text not null);
      create table if not exists typed_timers (
        key text primary key, due integer not null, step_id text, data text not null);
      create index if not exists typed_timers_due on typed_timers (due);
      create table if not exists inbox (
        id text primary key, name text not null, payload text, received_at text not null, position integer not null);
      create table if not exists delivered_events (idempotency_key text primary key, result text not null);
      create table if not exists checkpoints (step_id text primary key, attempt integer not null, data text not null);
      create table if not exists streamed_text (
        step_id text primary key, attempt integer not null, text text not null, committed integer not null);
    `);
  }

  // -- the execution ----------------------------------------------------------------------------

  /** Set once storage has been freed: the execution ended and Postgres holds it. */
  retired(): string | null {
    return this.meta<string>("retired");
  }

  markRetired(executionId: string): void {
    this.putMeta("retired", executionId);
  }

  execution(): ExecutionRecord | null {
    return this.meta<ExecutionRecord>("execution");
  }

  putExecution(record: ExecutionRecord): void {
    this.putMeta("execution", record);
  }

  agents(): Record<string, AgentSnapshot> {
    return this.meta<Record<string, AgentSnapshot>>("agents") ?? {};
  }

  putAgents(agents: Record<string, AgentSnapshot>): void {
    this.putMeta("agents", agents);
  }

  /** Step ids whose Postgres rows must go (a rerun on a version without them). */
  removedSteps(): string[] {
    return this.meta<string[]>("removed_steps") ?? [];
  }

  putRemovedSteps(stepIds: string[]): void {
    this.putMeta("removed_steps", stepIds);
  }

  // -- steps ------------------------------------------------------------------------------------

  step(stepId: string): StepState | null {
    const row = this.first("select data from steps where step_id = ?", stepId);
    return row ? (JSON.parse(row.data as string) as StepState) : null;
  }

  /** Every step, sub-steps (a map's items, a loop's iterations, compensations) included. */
  steps(): StepState[] {
    return this.rows("select data from steps order by rowid").map((row) => JSON.parse(row.data as string) as StepState);
  }

  /** The definition's steps, without sub-steps (whose ids hold `[`). */
  topSteps(): StepState[] {
    return this.rows("select data from steps where instr(step_id, '[') = 0 order by rowid").map(
      (row) => JSON.parse(row.data as string) as StepState,
    );
  }

  /** A container's sub-steps `<id>[…]`, in the order they were made. */
  subSteps(containerId: string): StepState[] {
    const prefix = `${containerId}[`;
    return this.rows(
      "select data from steps where substr(step_id, 1, ?) = ? order by rowid",
      prefix.length,
      prefix,
    ).map((row) => JSON.parse(row.data as string) as StepState);
  }

  /** Saves a step, remembering the event that last changed it (the outbox sends it after that event). */
  putStep(step: StepState): void {
    this.sql.exec(
      "insert into steps (step_id, updated_seq, data) values (?, ?, ?) on conflict (step_id) do update set updated_seq = excluded.updated_seq, data = excluded.data",
      step.stepId,
      this.lastSeq(),
      JSON.stringify(step),
    );
  }

  deleteStep(stepId: string): void {
    this.sql.exec("delete from steps where step_id = ?", stepId);
    this.sql.exec("delete from checkpoints where step_id = ?", stepId);
  }

  /** Steps last changed by an event in (after, upTo]; `upTo` null for every later one. */
  stepsChangedBetween(after: number, upTo: number | null): StepState[] {
    return this.rows(
      "select data from steps where updated_seq > ? and updated_seq <= ? order by rowid",
      after,
      upTo ?? Number.MAX_SAFE_INTEGER,
    ).map((row) => JSON.parse(row.data as string) as StepState);
  }

  // -- the event log and the outbox -------------------------------------------------------------

  appendEvent(event: Omit<ExecutionEvent, "seq">): ExecutionEvent {
    const seq = this.lastSeq() + 1;
    this.sql.exec(
      "insert into events (seq, at, event, step_id, level, message, data) values (?, ?, ?, ?, ?, ?, ?)",
      seq,
      event.at,
      event.event,
      event.stepId,
      event.level,
      event.message,
      event.data === undefined ? null : JSON.stringify(event.data),
    );
    this.putMeta("last_seq", seq);
    return { ...event, seq };
  }

  /** A restored execution continues the numbering Postgres has, all of it already flushed. */
  restoreSequence(seq: number): void {
    this.putMeta("last_seq", seq);
    this.putMeta("flushed_seq", seq);
  }

  lastSeq(): number {
    return this.meta<number>("last_seq") ?? 0;
  }

  eventsAfter(seq: number, limit = 1000): ExecutionEvent[] {
    return this.rows("select * from events where seq > ? order by seq limit ?", seq, limit).map((row) => ({
      seq: row.seq as number,
      at: row.at as string,
      event: row.event as ExecutionEvent["event"],
      stepId: row.step_id as string | null,
      level: row.level as ExecutionEvent["level"],
      message: row.message as string | null,
      data: row.data === null ? null : JSON.parse(row.data as string),
    }));
  }

  putAudit(seq: number, audit: PendingAudit): void {
    this.sql.exec("insert into audits (seq, data) values (?, ?)", seq, JSON.stringify(audit));
  }

  auditsBetween(after: number, upTo: number): Array<{ seq: number; audit: PendingAudit }> {
    return this.rows("select seq, data from audits where seq > ? and seq <= ? order by seq", after, upTo).map(
      (row) => ({ seq: row.seq as number, audit: JSON.parse(row.data as string) as PendingAudit }),
    );
  }

  /** Marks everything up to `seq` as delivered to Postgres. */
  markFlushed(seq: number): void {
    this.putMeta("flushed_seq", seq);
    this.sql.exec("delete from audits where seq <= ?", seq);
  }

  flushedSeq(): number {
    return this.meta<number>("flushed_seq") ?? 0;
  }

  // -- agent checkpoints ------------------------------------------------------------------------

  /** The attempt's checkpoint as stored: the state, or a reference to it in R2 when it is large. */
  checkpoint(stepId: string, attempt: number): AgentState | OffloadRef | null {
    const row = this.first("select data from checkpoints where step_id = ? and attempt = ?", stepId, attempt);
    return row ? (JSON.parse(row.data as string) as AgentState | OffloadRef) : null;
  }

  putCheckpoint(stepId: string, attempt: number, state: AgentState | OffloadRef): void {
    this.sql.exec(
      "insert into checkpoints (step_id, attempt, data) values (?, ?, ?) on conflict (step_id) do update set attempt = excluded.attempt, data = excluded.data",
      stepId,
      attempt,
      JSON.stringify(state),
    );
  }

  /** An attempt's progress is gone with it: its checkpoint and the text it streamed. */
  deleteAttemptProgress(stepId: string): void {
    this.sql.exec("delete from checkpoints where step_id = ?", stepId);
    this.sql.exec("delete from streamed_text where step_id = ?", stepId);
  }

  // -- timers -----------------------------------------------------------------------------------

  setTimer(timer: Timer, due: number, failures = 0): void {
    this.sql.exec(
      "insert into typed_timers (key, due, step_id, data) values (?, ?, ?, ?) on conflict (key) do update set due = excluded.due, data = excluded.data",
      timerKey(timer),
      Math.round(due),
      "stepId" in timer ? timer.stepId : null,
      JSON.stringify(failures > 0 ? { ...timer, failures } : timer),
    );
  }

  /** Removes a timer that fired, unless its handler armed it again (for another time). */
  deleteFiredTimer(fired: ScheduledTimer): void {
    this.sql.exec("delete from typed_timers where key = ? and due = ?", timerKey(fired.timer), fired.due);
  }

  timers(): ScheduledTimer[] {
    return this.rows("select * from typed_timers").map(toScheduled);
  }

  timer(key: string): ScheduledTimer | null {
    const row = this.first("select * from typed_timers where key = ?", key);
    return row ? toScheduled(row) : null;
  }

  deleteTimer(timer: Timer | { kind: TimerKind; stepId?: string }): void {
    this.sql.exec("delete from typed_timers where key = ?", timerKey(timer as Timer));
  }

  deleteStepTimers(stepId: string): void {
    this.sql.exec("delete from typed_timers where step_id = ?", stepId);
  }

  /** Drops every timer but the outbox's and the parent notification, when the execution ends. */
  clearWorkTimers(): void {
    this.sql.exec(
      "delete from typed_timers where key not in ('flush', 'notify_parent', 'retire', 'viewers', 'cancel_children')",
    );
  }

  dueTimers(now: number): ScheduledTimer[] {
    return this.rows("select * from typed_timers where due <= ? order by due", now).map(toScheduled);
  }

  nextDue(): number | null {
    const row = this.first("select min(due) as due from typed_timers");
    return (row?.due as number | null) ?? null;
  }

  // -- helpers ----------------------------------------------------------------------------------

  private meta<T>(key: string): T | null {
    const row = this.first("select value from meta where key = ?", key);
    return row ? (JSON.parse(row.value as string) as T) : null;
  }

  private putMeta(key: string, value: unknown): void {
    this.sql.exec(
      "insert into meta (key, value) values (?, ?) on conflict (key) do update set value = excluded.value",
      key,
      JSON.stringify(value),
    );
  }

  private rows(query: string, ...bindings: SqlStorageValue[]): Row[] {
    return this.sql.exec<Row>(query, ...bindings).toArray();
  }

  private first(query: string, ...bindings: SqlStorageValue[]): Row | undefined {
    return this.rows(query, ...bindings)[0];
  }
}

function toScheduled(row: Row): ScheduledTimer {
  const { failures = 0, ...timer } = JSON.parse(row.data as string) as Timer & { failures?: number };
  return { timer: timer as Timer, due: row.due as number, failures };
}
