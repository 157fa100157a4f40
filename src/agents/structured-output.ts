/**
 * Structured output (docs/workflows.md `responseFormat`): the model's final answer parsed as JSON and
 * validated against the step's schema. Providers are asked for JSON in their own way; this check
 * is the same for all of them, so a model that ignores the request fails the attempt with a
 * reason the step's retry policy may retry.
 */
import { schemaViolations } from "../engine/json-schema";
import { AgentError } from "./errors";
import type { StructuredFormat } from "./providers/types";

const SHOWN_VIOLATIONS = 3;
const PREVIEW_CHARS = 120;

/** The answer's object, or an `invalid_structured_output` error that says what is wrong. */
export function structuredObject(text: string, format: StructuredFormat): unknown {
  let value: unknown;
  try {
    value = JSON.parse(withoutFence(text));
  } catch {
    throw new AgentError(
      "invalid_structured_output",
      `the model's answer is not JSON: ${JSON.stringify(text.slice(0, PREVIEW_CHARS))}`,
      true,
    );
  }
  const violations = schemaViolations(format.schema, value, "object");
  if (violations.length) {
    const shown = violations.slice(0, SHOWN_VIOLATIONS).map((v) => `${v.path}: ${v.message}`);
    throw new AgentError(
      "invalid_structured_output",
      `the model's answer does not match the ${format.name} schema: ${shown.join("; ")}`,
      true,
    );
  }
  return value;
}

/** Models asked for JSON sometimes wrap it in a Markdown code fence anyway. */
function withoutFence(text: string): string {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/.exec(text);
  return fenced ? fenced[1] : text;
}
