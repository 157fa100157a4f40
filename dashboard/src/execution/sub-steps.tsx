/**
 * A map's items or a loop's iterations, a page at a time (GET …/steps/:stepId/items): the
 * execution view holds only the container's counts, however many items it runs.
 */
import { useEffect, useState } from "preact/hooks";
import { get } from "../api/client";
import type { Execution, ExecutionStep } from "../api/types";
import { duration } from "../components/format";
import { ErrorNotice, StatusBadge } from "../components/notices";

const PAGE = 50;

interface SubStep extends ExecutionStep {
  index: number;
}

export function SubSteps({ execution, step }: { execution: Execution; step: ExecutionStep }) {
  const [items, setItems] = useState<SubStep[]>([]);
  const [nextAfter, setNextAfter] = useState<number | null>(null);
  const [error, setError] = useState<Error>();
  const [shown, setShown] = useState(PAGE);
  const progressKey = JSON.stringify(step.progress);
  // Read again as the counts move (and as more pages are asked for).
  useEffect(() => {
    let alive = true;
    get<{ items: SubStep[]; nextAfter: number | null }>(
      `/executions/${execution.id}/steps/${step.stepId}/items?limit=${shown}`,
    )
      .then((page) => {
        if (!alive) return;
        setItems(page.items);
        setNextAfter(page.nextAfter);
      })
      .catch((caught: Error) => alive && setError(caught));
    return () => {
      alive = false;
    };
  }, [execution.id, step.stepId, progressKey, shown]);
  const noun = step.type === "loop" ? "Iterations" : "Items";
  return (
    <div class="sub-steps">
      <h3>{noun}</h3>
      <ErrorNotice error={error} />
      {items.length === 0 ? (
        <p class="empty">None started yet.</p>
      ) : (
        <table class="data-table" aria-label={`${step.stepId} ${noun.toLowerCase()}`}>
          <thead>
            <tr>
              <th scope="col">{step.type === "loop" ? "Iteration" : "Index"}</th>
              <th scope="col">Status</th>
              <th scope="col">Attempt</th>
              <th scope="col">Took</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.stepId} data-sub-step={item.stepId}>
                <td>{item.index}</td>
                <td>
                  <StatusBadge status={item.status} />
                </td>
                <td>{item.attempt}</td>
                <td>{duration(item.durationMs)}</td>
                <td>{item.error ? `${item.error.reason}: ${item.error.message}` : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {nextAfter !== null && (
        <button type="button" onClick={() => setShown((n) => n + PAGE)}>
          Show {PAGE} more
        </button>
      )}
    </div>
  );
}

/** What a container's node says instead of its type and status: its counts. */
export function progressLine(step: ExecutionStep): string | null {
  const progress = step.progress;
  if (!progress) return null;
  if (step.type === "loop") return `loop · iteration ${progress.started}${progress.failed ? " · failed" : ""}`;
  return `map · ${progress.completed}/${progress.total ?? "?"} done · ${progress.running} running${progress.failed ? ` · ${progress.failed} failed` : ""}`;
}
