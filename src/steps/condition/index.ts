/**
 * `condition` steps: an expression decides which branch runs; the steps of the other branch (and
 * what depends only on them) are skipped. Branches must name the condition's own dependents.
 */
import { evaluateCondition, parseExpression } from "../../engine/expression";
import type { ErrorDetail } from "../../errors";
import type { InlineKind } from "../kind";
import { type ConditionStep, ConditionStepSchema } from "./definition";

export const conditionStep = {
  type: "condition",
  schema: ConditionStepSchema,
  mode: "inline",
  sideEffects: false,
  templatedFields: () => [],
  expressions: (step) => [["if", step.if]],
  validate(step, steps) {
    const problems: ErrorDetail[] = [];
    const dependents = new Set(steps.filter((other) => other.dependsOn.includes(step.id)).map((other) => other.id));
    for (const branch of ["then", "else"] as const) {
      step[branch].forEach((target, index) => {
        if (!dependents.has(target))
          problems.push({
            path: `${branch}.${index}`,
            message: `"${target}" must be a step that depends on "${step.id}"`,
          });
      });
    }
    const overlap = step.then.filter((id) => step.else.includes(id));
    if (overlap.length) problems.push({ path: "else", message: `"${overlap[0]}" is in both branches` });
    return problems;
  },
  start(step, run) {
    const result = evaluateCondition(parseExpression(step.if), run.scope());
    run.complete({ result });
    run.skipBranch(result ? step.else : step.then);
  },
} satisfies InlineKind<ConditionStep>;
