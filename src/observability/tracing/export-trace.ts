/** Exports spans where the environment says (OTEL_EXPORTER_OTLP_ENDPOINT); without it, nothing leaves. */
import { settings } from "../../config";
import type { Bindings } from "../../env";
import { exportSpans } from "./otlp-export";
import type { Span } from "./spans";

export async function exportTrace(env: Bindings, spans: Span[]): Promise<void> {
  if (spans.length === 0) return;
  let endpoint: string | undefined;
  let headers: string | undefined;
  try {
    ({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_HEADERS: headers } = settings(env));
  } catch {
    return; // a misconfigured Worker reports that elsewhere (/health/ready, the logs)
  }
  if (endpoint) await exportSpans({ endpoint, headers }, spans);
}
