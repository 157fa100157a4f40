/** Tables for people, JSON for scripts (`--json`). */
export interface Output {
  json: boolean;
  /** A list: columns picked from each row for people, the rows themselves as JSON. */
  table<T>(rows: T[], columns: Array<[string, (row: T) => unknown]>): void;
  /** One object: `key  value` lines for people, the object as JSON. */
  record(value: Record<string, unknown>, fields?: string[]): void;
  /** A sentence for people; `value` as JSON. */
  done(sentence: string, value?: unknown): void;
  line(text: string): void;
}

export function output(json: boolean, write: (text: string) => void = (t) => process.stdout.write(t)): Output {
  const print = (text: string) => write(`${text}\n`);
  return {
    json,
    line: (text) => {
      if (!json) print(text);
    },
    table: (rows, columns) => {
      if (json) return print(JSON.stringify(rows, null, 2));
      if (rows.length === 0) return print("(none)");
      const cells = rows.map((row) => columns.map(([, pick]) => cellText(pick(row))));
      const widths = columns.map(([title], i) => Math.max(title.length, ...cells.map((r) => r[i].length)));
      const format = (values: string[]) =>
        values
          .map((v, i) => v.padEnd(widths[i]))
          .join("  ")
          .trimEnd();
      print(format(columns.map(([title]) => title.toUpperCase())));
      for (const row of cells) print(format(row));
    },
    record: (value, fields) => {
      if (json) return print(JSON.stringify(value, null, 2));
      const keys = fields ?? Object.keys(value);
      const width = Math.max(...keys.map((k) => k.length));
      for (const key of keys) print(`${key.padEnd(width)}  ${cellText(value[key])}`);
    },
    done: (sentence, value) => print(json ? JSON.stringify(value ?? { ok: true }, null, 2) : sentence),
  };
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function ago(iso: string | null | undefined): string {
  if (!iso) return "—";
  const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 90) return `${seconds}s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m ago`;
  if (seconds < 129600) return `${Math.round(seconds / 3600)}h ago`;
  return `${Math.round(seconds / 86400)}d ago`;
}
