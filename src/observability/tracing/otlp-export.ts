/**
 * Sends spans over OTLP/HTTP with the JSON encoding (docs/operations.md OTEL_EXPORTER_OTLP_ENDPOINT and
 * _HEADERS, as the OpenTelemetry SDKs read them). Hand-written on purpose: the spans are built
 * after the fact from durable state in whichever isolate sees the work end, which the SDK's
 * live-tracer and batch-processor model does not express, and OTLP/JSON is a small stable format.
 */
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import { logEvent } from "../log";
import type { AttributeValue, Span } from "./spans";

export const SERVICE_NAME = "ipa-platform";
const KIND = { internal: 1, server: 2, client: 3 } as const;
const STATUS_ERROR = 2;

export interface OtlpTarget {
  endpoint: string;
  /** `key=value,key2=value2`, values percent-encoded (the OTEL_EXPORTER_OTLP_HEADERS format). */
  headers?: string;
}

export async function exportSpans(target: OtlpTarget, spans: Span[]): Promise<void> {
  if (spans.length === 0) return;
  const url = `${target.endpoint.replace(/\/+$/, "")}/v1/traces`;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headersOf(target.headers) },
      body: JSON.stringify(otlpBody(spans)),
      signal: AbortSignal.timeout(10_000),
    });
    await response.body?.cancel();
    if (!response.ok) logEvent("warn", "trace_export_refused", { status: response.status, spans: spans.length });
  } catch (error) {
    // Telemetry never fails the work it describes.
    logEvent("warn", "trace_export_failed", { spans: spans.length, error: (error as Error)?.message });
  }
}

export function otlpBody(spans: Span[]) {
  return {
    resourceSpans: [
      {
        resource: { attributes: attributes({ [ATTR_SERVICE_NAME]: SERVICE_NAME }) },
        scopeSpans: [
          {
            scope: { name: SERVICE_NAME },
            spans: spans.map((span) => ({
              traceId: span.traceId,
              spanId: span.spanId,
              ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
              name: span.name,
              kind: KIND[span.kind],
              startTimeUnixNano: nanos(span.startMs),
              endTimeUnixNano: nanos(Math.max(span.endMs, span.startMs)),
              attributes: attributes(span.attributes),
              status: span.error ? { code: STATUS_ERROR, message: span.error } : {},
            })),
          },
        ],
      },
    ],
  };
}

function attributes(values: Record<string, AttributeValue>) {
  return Object.entries(values).map(([key, value]) => ({ key, value: anyValue(value) }));
}

function anyValue(value: AttributeValue) {
  if (typeof value === "boolean") return { boolValue: value };
  if (typeof value === "number") return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  return { stringValue: value };
}

/** Milliseconds as the decimal string of nanoseconds OTLP/JSON wants (beyond 2^53, hence no Number). */
function nanos(ms: number): string {
  return (BigInt(Math.round(ms)) * 1_000_000n).toString();
}

function headersOf(spec: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (spec ?? "").split(",")) {
    const at = pair.indexOf("=");
    if (at > 0) out[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return out;
}
