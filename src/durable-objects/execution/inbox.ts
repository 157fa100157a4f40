/**
 * An execution's inbox (docs/workflows.md `event` steps): events delivered before the step that
 * takes them waits, consumed in order, and what each delivery with an idempotency key answered,
 * so a retried delivery lands once. The tables are created by ExecutionStore with the others.
 */
import type { BufferedEvent } from "../../steps/task";

type Row = Record<string, SqlStorageValue>;

export class EventInbox {
  constructor(private readonly sql: SqlStorage) {}

  bufferEvent(event: BufferedEvent): void {
    const position = (this.first("select coalesce(max(position), 0) + 1 as next from inbox")?.next as number) ?? 1;
    this.sql.exec(
      "insert into inbox (id, name, payload, received_at, position) values (?, ?, ?, ?, ?)",
      event.id,
      event.name,
      JSON.stringify(event.payload ?? null),
      event.receivedAt,
      position,
    );
  }

  /** Removes and returns the oldest buffered event named `name`. */
  takeEvent(name: string): BufferedEvent | null {
    const row = this.first("select * from inbox where name = ? order by position limit 1", name);
    if (!row) return null;
    this.sql.exec("delete from inbox where id = ?", row.id);
    return {
      id: row.id as string,
      name: row.name as string,
      payload: JSON.parse(row.payload as string),
      receivedAt: row.received_at as string,
    };
  }

  bufferedEvents(): BufferedEvent[] {
    return this.rows("select * from inbox order by position").map((row) => ({
      id: row.id as string,
      name: row.name as string,
      payload: JSON.parse(row.payload as string),
      receivedAt: row.received_at as string,
    }));
  }

  /** What a delivery with this idempotency key answered, if one came before. */
  deliveredEvent<T>(idempotencyKey: string): T | null {
    const row = this.first("select result from delivered_events where idempotency_key = ?", idempotencyKey);
    return row ? (JSON.parse(row.result as string) as T) : null;
  }

  /** Every delivery remembered, to keep across a retirement (they are all an object keeps then). */
  deliveries(): Array<{ idempotencyKey: string; result: string }> {
    return this.rows("select idempotency_key, result from delivered_events").map((row) => ({
      idempotencyKey: row.idempotency_key as string,
      result: row.result as string,
    }));
  }

  putDeliveries(deliveries: Array<{ idempotencyKey: string; result: string }>): void {
    for (const { idempotencyKey, result } of deliveries)
      this.sql.exec(
        "insert into delivered_events (idempotency_key, result) values (?, ?) on conflict do nothing",
        idempotencyKey,
        result,
      );
  }

  rememberDelivery(idempotencyKey: string, result: unknown): void {
    this.sql.exec(
      "insert into delivered_events (idempotency_key, result) values (?, ?)",
      idempotencyKey,
      JSON.stringify(result),
    );
  }

  private rows(query: string, ...bindings: SqlStorageValue[]): Row[] {
    return this.sql.exec<Row>(query, ...bindings).toArray();
  }

  private first(query: string, ...bindings: SqlStorageValue[]): Row | undefined {
    return this.rows(query, ...bindings)[0];
  }
}
