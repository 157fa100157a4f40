/**
 * `loop` steps: the inner step again and again, each iteration a sub-step `<id>[<iteration>]`,
 * until `until` holds over the last output (the object's container transitions run them).
 */
import { evaluateCondition, parseExpression } from "../../engine/expression";
import type { Scope } from "../../engine/paths";
import type { ContainerKind } from "../kind";
import { type LoopStep, LoopStepSchema } from "./definition";

export const loopStep = {
  type: "loop",
  schema: LoopStepSchema,
  mode: "container",
  sideEffects: false,
  templatedFields: () => [],
  expressions: (step) => [["until", step.until]],
  innerSteps: (step) => [["step", step.step]],
  locals: { step: ["iteration", "last"], until: ["iteration", "last"] },
  inner: (step) => step.step,
} satisfies ContainerKind<LoopStep>;

/** Whether the loop ends after `iteration` gave `last`. */
export function loopEnds(step: LoopStep, scope: Scope, iteration: number, last: unknown): boolean {
  return evaluateCondition(parseExpression(step.until), { ...scope, iteration, last });
}
