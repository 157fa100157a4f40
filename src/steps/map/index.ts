/**
 * `map` steps: the inner step once per item of a list, at most `concurrency` at once, each item a
 * sub-step `<id>[<index>]` (the object's container transitions run them).
 */
import type { Scope } from "../../engine/paths";
import { renderTemplates } from "../../engine/template";
import type { ContainerKind } from "../kind";
import { type MapStep, MapStepSchema } from "./definition";

export const mapStep = {
  type: "map",
  schema: MapStepSchema,
  mode: "container",
  sideEffects: false,
  templatedFields: (step) => [["items", step.items]],
  innerSteps: (step) => [["step", step.step]],
  locals: { step: ["item", "index"] },
  inner: (step) => step.step,
} satisfies ContainerKind<MapStep>;

export class NotAList extends Error {}

/** The items the map runs: its `items` template resolved; anything but an array is the step's failure. */
export function mapItems(step: MapStep, scope: Scope): unknown[] {
  const items = renderTemplates(step.items, scope);
  if (!Array.isArray(items))
    throw new NotAList(`items resolved to ${items === null ? "null" : typeof items}, not a list`);
  return items;
}
