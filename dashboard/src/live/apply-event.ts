/**
 * A stream event applied to the execution as last seen, so the page changes the moment an event
 * arrives (the full detail is fetched again right after, for outputs and counters).
 */
import type { Execution, ExecutionStatus, ExecutionStep, StepStatus, StepWaiting } from "../api/types";
import type { StreamEvent } from "./execution-stream";

const STEP_STATUS: Record<string, StepStatus> = {
  "step.started": "running",
  "step.completed": "completed",
  "step.failed": "failed",
  "step.skipped": "skipped",
  "step.waiting": "waiting",
};

export function applyEvent(execution: Execution, event: StreamEvent): Execution {
  if (event.event.startsWith("execution.")) {
    const status = event.event.slice("execution.".length) as ExecutionStatus;
    return { ...execution, status };
  }
  const data = event.data ?? {};
  if (event.event === "step.progress") {
    // A map's or a loop's counts: the node's counter moves with every change.
    const progress = data as unknown as NonNullable<ExecutionStep["progress"]>;
    return {
      ...execution,
      steps: execution.steps.map((step) => (step.stepId === event.stepId ? { ...step, progress } : step)),
    };
  }
  const status = STEP_STATUS[event.event];
  if (!status || !event.stepId) return execution;
  const steps = execution.steps.map((step): ExecutionStep => {
    if (step.stepId !== event.stepId) return step;
    return {
      ...step,
      status,
      attempt: typeof data.attempt === "number" ? data.attempt : step.attempt,
      startedAt: status === "running" && !step.startedAt ? event.at : step.startedAt,
      completedAt: status === "completed" || status === "failed" || status === "skipped" ? event.at : step.completedAt,
      waiting: status === "waiting" ? (data as unknown as StepWaiting) : null,
    };
  });
  return { ...execution, steps };
}
