/** Step durations on one time axis: when each step started, how long it ran, and its attempts. */
import type { ExecutionStep } from "../api/types";
import { duration } from "./format";

export function Timeline({ steps, now }: { steps: ExecutionStep[]; now: number }) {
  const timed = steps.filter((step) => step.startedAt);
  if (timed.length === 0) return <p class="empty">No step has started yet.</p>;
  const start = Math.min(...timed.map((step) => Date.parse(step.startedAt as string)));
  const end = Math.max(...timed.map((step) => (step.completedAt ? Date.parse(step.completedAt) : now)), start + 1);
  const span = end - start;
  return (
    <ol class="timeline" aria-label="Step timeline">
      {timed.map((step) => {
        const from = Date.parse(step.startedAt as string);
        const to = step.completedAt ? Date.parse(step.completedAt) : now;
        const left = ((from - start) / span) * 100;
        const width = Math.max(0.5, ((to - from) / span) * 100);
        return (
          <li key={step.stepId} class="timeline-row">
            <span class="timeline-label">{step.stepId}</span>
            <span class="timeline-track">
              <span
                class={`timeline-bar status-${step.status}`}
                style={{ marginLeft: `${left}%`, width: `${width}%` }}
                title={`${step.stepId}: ${duration(to - from)}`}
              />
            </span>
            <span class="timeline-value">
              {duration(to - from)}
              {step.attempt > 1 ? ` · attempt ${step.attempt}` : ""}
            </span>
          </li>
        );
      })}
    </ol>
  );
}
