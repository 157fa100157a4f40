/** The execution's logs (archived ones included), newest page loaded again as the stream moves. */
import { get } from "../api/client";
import type { LogLine, Page } from "../api/types";
import { when } from "../components/format";
import { ErrorNotice } from "../components/notices";
import { ScrollRegion } from "../components/scroll-region";
import { useResource } from "../components/use-resource";

export function Logs({ executionId, version }: { executionId: string; version: number }) {
  const logs = useResource(
    () => get<Page<LogLine>>(`/executions/${executionId}/logs?limit=200`),
    [executionId, version],
  );
  return (
    <>
      <ErrorNotice error={logs.error} />
      <ScrollRegion label="Logs" className="logs">
        <ol>
          {(logs.value?.items ?? []).map((line) => (
            <li key={line.seq} class={`log-${line.level}`}>
              <time>{when(line.at)}</time> <code>{line.event}</code> {line.stepId ?? ""} {line.message ?? ""}
            </li>
          ))}
        </ol>
      </ScrollRegion>
    </>
  );
}
