/**
 * `event` steps (docs/workflows.md): wait until an event of that name is delivered to the execution. An
 * event delivered before the step waits is buffered by the object and consumed when it does
 * (never lost, never consumed twice); a payload that breaks `schema` is refused to its sender.
 */
import { schemaProblems, schemaViolations } from "../../engine/json-schema";
import type { ErrorDetail } from "../../errors";
import type { InlineKind, StepRuntime } from "../kind";
import { type EventStep, EventStepSchema } from "./definition";

export const eventStep = {
  type: "event",
  schema: EventStepSchema,
  mode: "inline",
  sideEffects: false,
  templatedFields: () => [],
  validate: (step) => (step.schema ? schemaProblems(step.schema, "schema") : []),
  start(step, run) {
    const buffered = run.takeEvent(step.event);
    if (buffered) {
      receive(run, buffered.payload, buffered.receivedAt);
      return;
    }
    const timeoutMs = step.timeoutSeconds ? step.timeoutSeconds * 1000 : null;
    run.wait(
      { reason: "event", event: step.event, expiresAt: timeoutMs === null ? null : run.iso(timeoutMs) },
      timeoutMs,
    );
  },
  waitExpired: (step, run) =>
    run.fail({ message: `no "${step.event}" event arrived before the timeout`, reason: "timeout", retryable: false }),
} satisfies InlineKind<EventStep>;

/** Where a payload breaks the step's schema (empty when it has none or the payload fits). */
export function payloadProblems(step: EventStep, payload: unknown): ErrorDetail[] {
  return step.schema ? schemaViolations(step.schema, payload ?? null, "payload") : [];
}

export function receive(run: StepRuntime, payload: unknown, receivedAt: string): void {
  run.complete({ payload: payload ?? null, receivedAt });
}
