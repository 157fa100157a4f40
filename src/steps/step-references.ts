/** What a step's templates and expressions read: for validation, and for reruns with new input. */

import { expressionPaths, parseExpression } from "../engine/expression";
import { type DataPath, referenceOf } from "../engine/paths";
import { collectTemplatePaths } from "../engine/template";
import { type Step, stepKind } from "./definition";

/** A template or expression of `field` does not parse (TemplateError or ExpressionError as cause). */
export class FieldSyntaxError extends Error {
  readonly field: string;

  constructor(field: string, cause: Error) {
    super(cause.message, { cause });
    this.field = field;
  }
}

/** Every data path the step reads, with the definition field holding it. */
export function pathsReadBy(step: Step): Array<{ field: string; at: string; path: DataPath }> {
  const kind = stepKind(step.type);
  const found: Array<{ field: string; at: string; path: DataPath }> = [];
  const read = (field: string, collect: () => Array<{ at: string; path: DataPath }>) => {
    try {
      for (const { at, path } of collect()) found.push({ field, at, path });
    } catch (error) {
      throw new FieldSyntaxError(field, error as Error);
    }
  };
  for (const [field, value] of kind.templatedFields(step as never))
    read(field, () => collectTemplatePaths(value, field));
  for (const [field, source] of kind.expressions?.(step as never) ?? [])
    read(field, () => expressionPaths(parseExpression(source)).map((path) => ({ at: field, path })));
  return found;
}

/** Whether the step reads the execution's input (a rerun with new input runs it again). */
export function readsInput(step: Step): boolean {
  return pathsReadBy(step).some(({ path }) => referenceOf(path).kind === "input");
}
