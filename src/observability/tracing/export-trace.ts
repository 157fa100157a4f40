/** Exports spans where the environment says (OTEL_EXPORTER_OTLP_ENDPOINT); without it, nothing leaves. */
import { settings } from "../../config";
import type { Bindings } from "../../env";
import { exportSpans } from "./otlp-export";
import type { Span } from "./spans";

export async function exportTrace(env: Bindings, spans: Span[]): Promise<void> {
  const target = targetOf(env);
  if (target && spans.length > 0) await exportSpans(target, spans);
}

/** Whether spans are wanted at all: without an endpoint the execution's object builds none. */
export function tracingWanted(env: Bindings): boolean {
  return targetOf(env) !== null;
}

function targetOf(env: Bindings): { endpoint: string; headers?: string } | null {
  try {
    const { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_HEADERS: headers } = settings(env);
    return endpoint ? { endpoint, headers } : null;
  } catch {
    return null; // a misconfigured Worker reports that elsewhere (/health/ready, the logs)
  }
}
