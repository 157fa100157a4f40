/** The built-in tools: current time, JSON path lookup, arithmetic (all without eval). */
import type { BUILTIN_TOOLS } from "../configuration";
import { ArithmeticError, evaluateArithmetic } from "./arithmetic";
import { JsonPathError, queryJsonPath } from "./json-path";

type BuiltinName = (typeof BUILTIN_TOOLS)[number];

interface Builtin {
  description: string;
  parameters: Record<string, unknown>;
  run(args: Record<string, unknown>): unknown;
}

export const BUILTINS: Record<BuiltinName, Builtin> = {
  current_time: {
    description: "The current date and time (UTC, or in an IANA time zone).",
    parameters: {
      type: "object",
      properties: { timezone: { type: "string", maxLength: 64 } },
      additionalProperties: false,
    },
    run: (args) => {
      const now = new Date();
      const timeZone = typeof args.timezone === "string" ? args.timezone : "UTC";
      try {
        const local = new Intl.DateTimeFormat("en-CA", { timeZone, dateStyle: "short", timeStyle: "long" }).format(now);
        return { iso: now.toISOString(), unix: Math.floor(now.getTime() / 1000), timezone: timeZone, local };
      } catch {
        return { error: `unknown time zone "${timeZone}"` };
      }
    },
  },
  json_path: {
    description: "Read values out of a JSON document with a JSONPath such as $.items[0].name.",
    parameters: {
      type: "object",
      properties: {
        json: { description: "the document, as JSON text or a value" },
        path: { type: "string", maxLength: 500 },
      },
      required: ["json", "path"],
      additionalProperties: false,
    },
    run: (args) => {
      try {
        const document = typeof args.json === "string" ? JSON.parse(args.json) : args.json;
        const values = queryJsonPath(document, String(args.path));
        return { found: values.length > 0, values };
      } catch (error) {
        if (error instanceof JsonPathError || error instanceof SyntaxError) return { error: error.message };
        throw error;
      }
    },
  },
  arithmetic: {
    description: "Evaluate an arithmetic expression with + - * / % ^ and parentheses.",
    parameters: {
      type: "object",
      properties: { expression: { type: "string", maxLength: 500 } },
      required: ["expression"],
      additionalProperties: false,
    },
    run: (args) => {
      try {
        return { result: evaluateArithmetic(String(args.expression)) };
      } catch (error) {
        if (error instanceof ArithmeticError) return { error: error.message };
        throw error;
      }
    },
  },
};
