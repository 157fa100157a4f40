/**
 * JSON Schema in the definition language (docs/workflows.md: `inputSchema`, `event.schema`): checking that a
 * schema can be used, and validating a value against it with `{ path, message }` details.
 * @cfworker/json-schema runs in workerd without code generation (no eval).
 */
import { Validator } from "@cfworker/json-schema";
import type { ErrorDetail } from "../errors";

const JSON_TYPES = new Set(["object", "array", "string", "number", "integer", "boolean", "null"]);
const MAX_DETAILS = 20;

/** Problems that make `schema` unusable; empty when it can validate values. */
export function schemaProblems(schema: Record<string, unknown>, at: string): ErrorDetail[] {
  const types = schema.type === undefined ? [] : [schema.type].flat();
  const bad = types.filter((type) => typeof type !== "string" || !JSON_TYPES.has(type));
  if (bad.length) return [{ path: `${at}.type`, message: `unknown JSON Schema type ${JSON.stringify(bad[0])}` }];
  try {
    new Validator(schema as object, "2020-12", false).validate({});
  } catch (error) {
    return [{ path: at, message: `not a usable JSON Schema: ${(error as Error).message}` }];
  }
  return [];
}

/** Where `value` breaks `schema`, as details under `root` (`input.customer.id: …`). */
export function schemaViolations(schema: Record<string, unknown>, value: unknown, root: string): ErrorDetail[] {
  const verdict = new Validator(schema as object, "2020-12", false).validate(value);
  if (verdict.valid) return [];
  // The leaves say what is wrong; the "#" entries only repeat that a subschema failed.
  const leaves = verdict.errors.filter((error) => !/^(properties|items|allOf|\$ref)$/.test(error.keyword));
  return (leaves.length ? leaves : verdict.errors).slice(0, MAX_DETAILS).map((error) => ({
    path: [
      root,
      ...error.instanceLocation.replace(/^#\/?/, "").split("/").filter(Boolean),
      ...missingProperty(error),
    ].join("."),
    message: error.error,
  }));
}

/** A missing required property is named in the path too, so a form can show the error on its field. */
function missingProperty(error: { keyword: string; error: string }): string[] {
  if (error.keyword !== "required") return [];
  const name = /required property "([^"]+)"/.exec(error.error)?.[1];
  return name ? [name] : [];
}
