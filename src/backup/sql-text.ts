/**
 * SQL text for backups. Every statement is followed by a marker line, so the verifier can split
 * an object back into statements without parsing SQL; literals never hold a raw newline (they are
 * written as E'' strings), so the marker cannot appear inside one. psql reads the marker as a comment.
 */

export const STATEMENT_END = "-- ipa:end";

/** A table's data section starts with this comment (restore progress reads it). */
export const tableMarker = (table: string, rows: number) => `-- ipa:table ${table} ${rows}`;

export function statement(sql: string): string {
  return `${sql.trimEnd().replace(/;$/, "")};\n${STATEMENT_END}\n`;
}

export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A value given in Postgres' text form, as a literal the column's type accepts. */
export function literal(text: string | null): string {
  if (text === null) return "NULL";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what needs escaping.
  if (!/[\\\n\r\t\u0000-\u001f]/.test(text)) return `'${text.replace(/'/g, "''")}'`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what needs escaping.
  const escaped = text.replace(/[\\'\n\r\t\u0000-\u001f]/g, (ch) => {
    switch (ch) {
      case "\\":
        return "\\\\";
      case "'":
        return "\\'";
      case "\n":
        return "\\n";
      case "\r":
        return "\\r";
      case "\t":
        return "\\t";
      default:
        return `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`;
    }
  });
  return `E'${escaped}'`;
}

/** Splits object text back into statements (the inverse of `statement`). */
export class StatementSplitter {
  private buffer = "";

  /** Feeds text; returns the statements it completed. */
  push(text: string): string[] {
    this.buffer += text;
    const marker = `\n${STATEMENT_END}\n`;
    const out: string[] = [];
    let at = this.buffer.indexOf(marker);
    while (at >= 0) {
      const sql = this.buffer.slice(0, at).trim();
      if (sql) out.push(stripComments(sql));
      this.buffer = this.buffer.slice(at + marker.length);
      at = this.buffer.indexOf(marker);
    }
    return out;
  }

  /** Whatever is left once the input ends must be empty (a cut object is an error). */
  finish(): void {
    if (stripComments(`${this.buffer.trim()}\n`).trim())
      throw new Error("the object ends in the middle of a statement");
  }
}

/** Leading `--` comment lines (table markers) are dropped; the driver does not need them. */
function stripComments(sql: string): string {
  return sql.replace(/^(--[^\n]*\n)+/, "");
}
