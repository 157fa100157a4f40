/** `transform` steps: a templated JSON value, computed inside the object at once. */
import { renderTemplates } from "../../engine/template";
import type { InlineKind } from "../kind";
import { type TransformStep, TransformStepSchema } from "./definition";

export const transformStep = {
  type: "transform",
  schema: TransformStepSchema,
  mode: "inline",
  sideEffects: false,
  templatedFields: (step) => [["output", step.output]],
  start: (step, run) => run.complete(renderTemplates(step.output, run.scope())),
} satisfies InlineKind<TransformStep>;
