/**
 * The text each running agent attempt has streamed (docs/engine.md token durability), kept in the
 * object's SQLite so that a viewer connecting mid-answer, or a consumer taking the attempt over,
 * continues from it. The table is created by ExecutionStore with the others.
 */
type Row = Record<string, SqlStorageValue>;

/** Streamed text kept per attempt for replay (Durable Object SQLite rows hold at most 2 MB). */
export const MAX_STREAMED_CHARS = 512 * 1024;

export class StreamedTextStore {
  constructor(private readonly sql: SqlStorage) {}

  /** Every running attempt's text so far, for a viewer who connects mid-answer. */
  all(): Array<{ stepId: string; attempt: number; text: string }> {
    return this.sql
      .exec<Row>("select step_id, attempt, text from streamed_text order by step_id")
      .toArray()
      .map((row) => ({
        stepId: row.step_id as string,
        attempt: row.attempt as number,
        text: row.text as string,
      }));
  }

  /**
   * Adds the part of `text` (which starts at `offset` of the attempt's text) not held yet, and
   * answers it with where it starts; null when all of it was held (a retried publish). A new
   * attempt starts over. Past MAX_STREAMED_CHARS the text is not kept (viewers still get it live).
   */
  append(stepId: string, attempt: number, offset: number, text: string): { offset: number; text: string } | null {
    const row = this.first("select attempt, length(text) as length from streamed_text where step_id = ?", stepId);
    const held = row?.attempt === attempt ? (row.length as number) : 0;
    if (!row || row.attempt !== attempt) {
      this.sql.exec(
        "insert into streamed_text (step_id, attempt, text, committed) values (?, ?, '', 0) on conflict (step_id) do update set attempt = excluded.attempt, text = '', committed = 0",
        stepId,
        attempt,
      );
    }
    // Past what is held (text given up, or past the cap) the piece is relayed where it says it starts, not kept.
    const start = Math.max(offset, held);
    const fresh = text.slice(start - offset);
    if (!fresh) return null;
    if (start === held && held + fresh.length <= MAX_STREAMED_CHARS)
      this.sql.exec("update streamed_text set text = text || ? where step_id = ?", fresh, stepId);
    return { offset: start, text: fresh };
  }

  /** How much of the attempt's text is kept. */
  length(stepId: string, attempt: number): number {
    const row = this.first(
      "select length(text) as length from streamed_text where step_id = ? and attempt = ?",
      stepId,
      attempt,
    );
    return (row?.length as number | undefined) ?? 0;
  }

  /** The text so far belongs to checkpointed answers: a consumer taking the attempt over keeps it. */
  commit(stepId: string, attempt: number): void {
    this.sql.exec(
      "update streamed_text set committed = length(text) where step_id = ? and attempt = ?",
      stepId,
      attempt,
    );
  }

  /** A new claim of the attempt asks the model again from the checkpoint: text past it is dropped. */
  rewind(stepId: string, attempt: number): void {
    this.sql.exec(
      "update streamed_text set text = substr(text, 1, committed) where step_id = ? and attempt = ?",
      stepId,
      attempt,
    );
  }

  private first(query: string, ...bindings: SqlStorageValue[]): Row | undefined {
    return this.sql.exec<Row>(query, ...bindings).toArray()[0];
  }
}
