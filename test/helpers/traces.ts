/** The spans the Worker exported to the outside world's OTLP receiver, read back by trace. */
import { env } from "cloudflare:workers";

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: string; doubleValue?: number } }>;
  status: { code?: number };
}

export async function exportedSpans(traceId: string): Promise<OtlpSpan[]> {
  const requests: Array<{ body: string; path: string }> = await (
    await fetch(`${env.TEST_OUTSIDE_URL}/_requests/otlp`)
  ).json();
  return requests
    .filter((request) => request.path === "/otlp/v1/traces")
    .flatMap((request) => JSON.parse(request.body).resourceSpans)
    .flatMap((resource: { scopeSpans: Array<{ spans: OtlpSpan[] }> }) => resource.scopeSpans.flatMap((s) => s.spans))
    .filter((span: OtlpSpan) => span.traceId === traceId);
}

export async function spansUntil(traceId: string, done: (spans: OtlpSpan[]) => boolean): Promise<OtlpSpan[]> {
  for (let i = 0; i < 100; i++) {
    const spans = await exportedSpans(traceId);
    if (done(spans)) return spans;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the trace ${traceId} did not arrive whole`);
}
