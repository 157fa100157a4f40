/**
 * The execution Durable Object's SQLite storage: the execution record, one row per step, the
 * append-only event log (which doubles as the outbox to Postgres), pending audit rows, and the
 * timers that share the object's single alarm. Every method is synchronous, so a transition made
 * of several calls without an `await` between them commits atomically.
 */
import type { ExecutionEvent, ExecutionRecord, PendingAudit, StepState } from "./types";

export type TimerKind =
  | "retry"
  | "delay"
  | "approval_timeout"
  | "step_timeout"
  | "execution_timeout"
  | "dispatch"
  | "flush"
  | "notify_parent";

export interface Timer {
  key: string;
  due: number;
  kind: TimerKind;
  stepId: string | null;
  attempt: number | null;
}

type Row = Record<string, SqlStorageValue>;

export class ExecutionStore {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    this.sql.exec(`
      create table if not exists meta (key text primary key, value text not null);
      create table if not exists steps (step_id text primary key, updated_seq integer not null, data text not null);
      create table if not exists events (
        seq integer primary key, at text not null, event text not null, step_id text,
        level text not null, message text, data text);
      create table if not exists audits (seq integer primary key, data text not null);
      create table if not exists timers (
        key text primary key, due integer not null, kind text not null, step_id text, attempt integer);
      create index if not exists timers_due on timers (due);
    `);
  }

  execution(): ExecutionRecord | null {
    return this.meta<ExecutionRecord>("execution");
  }

  putExecution(record: ExecutionRecord): void {
    this.putMeta("execution", record);
  }

  step(stepId: string): StepState | null {
    const row = this.first("select data from steps where step_id = ?", stepId);
    return row ? (JSON.parse(row.data as string) as StepState) : null;
  }

  steps(): StepState[] {
    return this.rows("select data from steps order by rowid").map((row) => JSON.parse(row.data as string) as StepState);
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

  stepsChangedAfter(seq: number): StepState[] {
    return this.rows("select data from steps where updated_seq > ? order by rowid", seq).map(
      (row) => JSON.parse(row.data as string) as StepState,
    );
  }

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

  auditsUpTo(seq: number): Array<{ seq: number; audit: PendingAudit }> {
    return this.rows("select seq, data from audits where seq <= ? order by seq", seq).map((row) => ({
      seq: row.seq as number,
      audit: JSON.parse(row.data as string) as PendingAudit,
    }));
  }

  /** Marks everything up to `seq` as delivered to Postgres. */
  markFlushed(seq: number): void {
    this.putMeta("flushed_seq", seq);
    this.sql.exec("delete from audits where seq <= ?", seq);
  }

  flushedSeq(): number {
    return this.meta<number>("flushed_seq") ?? 0;
  }

  setTimer(timer: Omit<Timer, "key"> & { key?: string }): void {
    const key = timer.key ?? (timer.stepId ? `${timer.kind}:${timer.stepId}` : timer.kind);
    this.sql.exec(
      "insert into timers (key, due, kind, step_id, attempt) values (?, ?, ?, ?, ?) on conflict (key) do update set due = excluded.due, kind = excluded.kind, step_id = excluded.step_id, attempt = excluded.attempt",
      key,
      Math.round(timer.due),
      timer.kind,
      timer.stepId,
      timer.attempt,
    );
  }

  deleteTimer(kind: TimerKind, stepId?: string): void {
    this.sql.exec("delete from timers where key = ?", stepId ? `${kind}:${stepId}` : kind);
  }

  deleteStepTimers(stepId: string): void {
    this.sql.exec("delete from timers where step_id = ?", stepId);
  }

  /** Drops every timer but the outbox's and the parent notification, when the execution ends. */
  clearWorkTimers(): void {
    this.sql.exec("delete from timers where kind not in ('flush', 'notify_parent')");
  }

  dueTimers(now: number): Timer[] {
    return this.rows("select * from timers where due <= ? order by due", now).map(toTimer);
  }

  timer(key: string): Timer | null {
    const row = this.first("select * from timers where key = ?", key);
    return row ? toTimer(row) : null;
  }

  nextDue(): number | null {
    const row = this.first("select min(due) as due from timers");
    return (row?.due as number | null) ?? null;
  }

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

function toTimer(row: Row): Timer {
  return {
    key: row.key as string,
    due: row.due as number,
    kind: row.kind as TimerKind,
    stepId: row.step_id as string | null,
    attempt: row.attempt as number | null,
  };
}
