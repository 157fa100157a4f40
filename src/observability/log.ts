/** Structured logging: one JSON object per line, the shape Workers Logs and Logpush index. */

export type LogLevel = "debug" | "info" | "warn" | "error";

/** Field names whose values never reach a log line, whatever the caller passes. */
const REDACTED = /pass(word)?|secret|token|authorization|api[-_]?key|cookie|ticket/i;

export function logEvent(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, message, time: new Date().toISOString(), ...redact(fields) });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    out[key] = REDACTED.test(key) ? "[redacted]" : value;
  }
  return out;
}
