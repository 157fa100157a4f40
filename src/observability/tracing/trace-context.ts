/**
 * W3C Trace Context (`traceparent`) and the ids of an execution's trace. One trace per execution:
 * its id is the caller's when the start request carried a `traceparent`, else the execution id's
 * 128 bits. Span ids are derived from what they stand for (the execution, a step attempt, a model
 * or tool call), so the object, the consumer and an http target all name the same spans without
 * passing ids around.
 */
import { createHash } from "node:crypto";

export interface TraceContext {
  traceId: string;
  /** The caller's span, when the execution joined an incoming trace. */
  parentSpanId: string | null;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const INVALID_TRACE = "0".repeat(32);
const INVALID_SPAN = "0".repeat(16);

/** The incoming context, or null for a missing, malformed or all-zero header (W3C: ignore it). */
export function parseTraceparent(header: string | null | undefined): TraceContext | null {
  const match = TRACEPARENT.exec(header?.trim().toLowerCase() ?? "");
  if (!match || match[1] === INVALID_TRACE || match[2] === INVALID_SPAN) return null;
  return { traceId: match[1], parentSpanId: match[2] };
}

export function formatTraceparent(traceId: string, spanId: string): string {
  return `00-${traceId}-${spanId}-01`;
}

/** The execution's trace: the one it joined, else one named by its id. */
export function traceOf(executionId: string, joined: TraceContext | null | undefined): TraceContext {
  return joined ?? { traceId: executionId.replaceAll("-", "").toLowerCase(), parentSpanId: null };
}

/** The `traceparent` naming an execution's own span, for the caller that started it. */
export function executionTraceparent(executionId: string, joined: TraceContext | null | undefined): string {
  return formatTraceparent(traceOf(executionId, joined).traceId, executionSpanId(executionId));
}

/** A span id that is a pure function of what the span stands for. */
export function spanIdOf(...parts: Array<string | number>): string {
  return createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 16);
}

export const executionSpanId = (executionId: string) => spanIdOf(executionId, "execution");
export const attemptSpanId = (executionId: string, stepId: string, attempt: number) =>
  spanIdOf(executionId, "step", stepId, attempt);
export const modelCallSpanId = (executionId: string, stepId: string, attempt: number, index: number) =>
  spanIdOf(executionId, "model", stepId, attempt, index);
export const toolCallSpanId = (executionId: string, stepId: string, attempt: number, toolCallId: string) =>
  spanIdOf(executionId, "tool", stepId, attempt, toolCallId);

/** A random span id (an API request's own span). */
export function randomSpanId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
