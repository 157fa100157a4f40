/**
 * Bounded views of an execution for the stream: a snapshot of a hundred steps with large inputs
 * and outputs must still fit one WebSocket message (1 MiB). Values over the per-value limit, and
 * then the largest ones until the whole fits, become previews that name where the full value is.
 */
import { maskedStepInput } from "../../steps/http/mask";
import { byteLength } from "../../steps/large-values";
import type { Snapshot, StepState } from "./types";

const VALUE_LIMIT_BYTES = 16 * 1024;
const SNAPSHOT_LIMIT_BYTES = 512 * 1024;
const PREVIEW_CHARS = 256;

export interface Preview {
  $truncated: true;
  bytes: number;
  preview: string;
  /** Where the whole value is (outputs only; inputs are in GET /executions/:id). */
  href?: string;
}

export function boundedSnapshot(snapshot: Snapshot): Snapshot {
  const { execution } = snapshot;
  const steps = execution.steps.map((step) => ({
    ...step,
    input: bounded(maskedStepInput(step.type, step.input), VALUE_LIMIT_BYTES),
    output: bounded(step.output, VALUE_LIMIT_BYTES, outputHref(execution.id, step)),
  }));
  let view = { ...execution, input: bounded(execution.input, VALUE_LIMIT_BYTES), steps };
  // Still too big (many medium values): preview the largest until it fits.
  while (byteLength(JSON.stringify(view)) > SNAPSHOT_LIMIT_BYTES) {
    const largest = view.steps
      .flatMap((step, index) => [
        { index, field: "input" as const, bytes: size(step.input) },
        { index, field: "output" as const, bytes: size(step.output) },
      ])
      .sort((a, b) => b.bytes - a.bytes)[0];
    if (!largest || largest.bytes <= PREVIEW_CHARS * 2) break;
    const next = [...view.steps];
    const step = next[largest.index];
    next[largest.index] = {
      ...step,
      [largest.field]: bounded(
        step[largest.field],
        0,
        largest.field === "output" ? outputHref(execution.id, step) : undefined,
      ),
    };
    view = { ...view, steps: next };
  }
  return { seq: snapshot.seq, execution: view };
}

function bounded(value: unknown, limit: number, href?: string): unknown {
  if (value === null || value === undefined) return value;
  const json = JSON.stringify(value);
  const bytes = byteLength(json);
  if (bytes <= limit) return value;
  return {
    $truncated: true,
    bytes,
    preview: json.slice(0, PREVIEW_CHARS),
    ...(href ? { href } : {}),
  } satisfies Preview;
}

function size(value: unknown): number {
  return value === null || value === undefined ? 0 : byteLength(JSON.stringify(value));
}

function outputHref(executionId: string, step: StepState): string {
  return `/api/v1/executions/${executionId}/steps/${step.stepId}/output`;
}
