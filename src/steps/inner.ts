/**
 * Inner steps (docs/workflows.md "Control flow"): the step a `map` runs per item, a `loop` per
 * iteration, and a compensation runs to undo a completed step. An inner step is an `http`,
 * `agent`, `transform` or `workflow` step without `id`, `dependsOn` or `continueOnError`: its
 * place is its container's, and its sub-steps are named `<id>[<n>]`.
 */
import { z } from "zod";
import { AgentStepSchema } from "./agent/definition";
import { HttpStepSchema } from "./http/definition";
import { TransformStepSchema } from "./transform/definition";
import { WorkflowStepSchema } from "./workflow/definition";

const PLACE = { id: true, dependsOn: true, continueOnError: true } as const;

export const InnerStepSchema = z.discriminatedUnion("type", [
  HttpStepSchema.omit(PLACE),
  AgentStepSchema.omit(PLACE),
  TransformStepSchema.omit(PLACE),
  WorkflowStepSchema.omit(PLACE),
]);
export type InnerStep = z.infer<typeof InnerStepSchema>;

/** The field a step type with side effects adds: the inner step that undoes it once it has completed. */
export const COMPENSATION = { compensate: InnerStepSchema.optional() };

/** The id of a container's sub-step: a map's item by index (from 0), a loop's iteration (from 1). */
export function subStepId(containerId: string, n: number | "compensate"): string {
  return `${containerId}[${n}]`;
}

/** A sub-step's container and number; null for a step of the definition (ids never hold `[`). */
export function parseSubStepId(stepId: string): { containerId: string; n: number | "compensate" } | null {
  const match = /^([a-z0-9_-]+)\[(\d+|compensate)\]$/.exec(stepId);
  if (!match) return null;
  return { containerId: match[1], n: match[2] === "compensate" ? "compensate" : Number(match[2]) };
}
