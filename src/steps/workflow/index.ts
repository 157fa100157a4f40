/**
 * `workflow` steps: a child execution of another workflow, started as the execution's acting user
 * under an id derived from the step's key and attempt (a re-run finds the child it started), and
 * awaited without a consumer held. Agents' workflow tools start their children the same way.
 */
import { derivedUuid } from "../../crypto/derived-uuid";
import { renderTemplates } from "../../engine/template";
import type { QueuedKind } from "../kind";
import { type WorkflowStep, WorkflowStepSchema } from "./definition";

export interface WorkflowInput {
  workflow: string;
  version: number | null;
  input: Record<string, unknown>;
  wait: boolean;
}

/** The child an attempt starts: the same on a re-run of that attempt, a new one for each retry. */
export function workflowChildId(idempotencyKey: string, attempt: number): string {
  return derivedUuid(`${idempotencyKey}:${attempt}`);
}

export const workflowStep = {
  type: "workflow",
  schema: WorkflowStepSchema,
  mode: "queued",
  sideEffects: true,
  templatedFields: (step) => [["input", step.input]],
  workflowRefs: (step) => [step.workflow],
  defaultTimeoutMs: 30_000,
  firstAttemptInObject: false,
  input: (step, scope): WorkflowInput => ({
    workflow: step.workflow,
    version: step.version ?? null,
    input: renderTemplates(step.input, scope) as Record<string, unknown>,
    wait: step.wait,
  }),
  async run(task, raw, context) {
    const input = raw as WorkflowInput;
    const child = await context.startChild({
      executionId: workflowChildId(task.idempotencyKey, task.attempt),
      workflowId: input.workflow,
      ...(input.version === null ? {} : { version: input.version }),
      input: input.input,
      actingUserId: task.actingUserId,
      startedBy: `execution:${task.executionId}`,
      parent: { executionId: task.executionId, stepId: task.stepId, attempt: task.attempt },
      triggerType: "workflow",
    });
    if ("refused" in child)
      return {
        outcome: {
          ok: false,
          error: { message: child.refused, reason: child.reason ?? "forbidden", retryable: false },
        },
      };
    if (!input.wait) return { outcome: { ok: true, output: { executionId: child.executionId } } };
    return { suspension: { kind: "child", executionId: child.executionId } };
  },
} satisfies QueuedKind<WorkflowStep>;
