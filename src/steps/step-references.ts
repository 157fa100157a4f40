/** What a step's templates and expressions read: for validation, and for reruns with new input. */

import { expressionPaths, parseExpression } from "../engine/expression";
import { type DataPath, type LocalName, referenceOf } from "../engine/paths";
import { collectTemplatePaths } from "../engine/template";
import { type Step, type StepType, stepKind } from "./definition";

/** A template or expression of `field` does not parse (TemplateError or ExpressionError as cause). */
export class FieldSyntaxError extends Error {
  readonly field: string;

  constructor(field: string, cause: Error) {
    super(cause.message, { cause });
    this.field = field;
  }
}

/** A step, or an inner step of it (a map's or loop's `step`, a `compensate`), with where it sits. */
export interface NestedStep {
  /** The inner step's path from its outer step, ending in "." (empty for the step itself). */
  prefix: string;
  step: { type: StepType } & Record<string, unknown>;
  /** The local names its templates may read (item, index, iteration, last). */
  locals: readonly LocalName[];
  /** A compensation: it may read the output of the step it undoes. */
  readsSelf: boolean;
}

/** The step and every inner step in it, outermost first. */
export function nestedSteps(step: Step): NestedStep[] {
  const found: NestedStep[] = [];
  const visit = (current: NestedStep) => {
    found.push(current);
    const kind = stepKind(current.step.type);
    for (const [field, inner] of kind.innerSteps?.(current.step as never) ?? [])
      visit({
        prefix: `${current.prefix}${field}.`,
        step: inner as NestedStep["step"],
        locals: [...current.locals, ...(kind.locals?.[field] ?? [])],
        readsSelf: current.readsSelf,
      });
    const compensate = current.step.compensate as NestedStep["step"] | undefined;
    if (compensate)
      visit({ prefix: `${current.prefix}compensate.`, step: compensate, locals: current.locals, readsSelf: true });
  };
  visit({ prefix: "", step: step as unknown as NestedStep["step"], locals: [], readsSelf: false });
  return found;
}

export interface PathRead {
  /** The field of the (inner) step that holds it, e.g. `request`. */
  field: string;
  /** Its path from the outer step, e.g. `step.request.url`. */
  at: string;
  path: DataPath;
  /** The type of the (inner) step that reads it. */
  stepType: StepType;
  locals: readonly LocalName[];
  readsSelf: boolean;
}

/** Every data path the step and its inner steps read, with the field holding it. */
export function pathsReadBy(step: Step): PathRead[] {
  const found: PathRead[] = [];
  for (const nested of nestedSteps(step)) {
    const kind = stepKind(nested.step.type);
    const read = (field: string, collect: () => Array<{ at: string; path: DataPath }>) => {
      let paths: Array<{ at: string; path: DataPath }>;
      try {
        paths = collect();
      } catch (error) {
        throw new FieldSyntaxError(`${nested.prefix}${field}`, error as Error);
      }
      const locals = [...nested.locals, ...(kind.locals?.[field] ?? [])];
      for (const { at, path } of paths)
        found.push({
          field,
          at: `${nested.prefix}${at}`,
          path,
          stepType: nested.step.type,
          locals,
          readsSelf: nested.readsSelf,
        });
    };
    for (const [field, value] of kind.templatedFields(nested.step as never))
      read(field, () => collectTemplatePaths(value, field));
    for (const [field, source] of kind.expressions?.(nested.step as never) ?? [])
      read(field, () => expressionPaths(parseExpression(source)).map((path) => ({ at: field, path })));
  }
  return found;
}

/** Whether the step reads the execution's input (a rerun with new input runs it again). */
export function readsInput(step: Step): boolean {
  return pathsReadBy(step).some(({ path }) => referenceOf(path).kind === "input");
}
