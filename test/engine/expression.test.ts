import { describe, expect, it } from "vitest";
import {
  ExpressionError,
  evaluateCondition,
  evaluateExpression,
  expressionPaths,
  parseExpression,
} from "../../src/engine/expression";
import { PathError, type Scope } from "../../src/engine/paths";

const scope: Scope = {
  input: { q: "cats", n: 4, tags: ["a", "b"], nested: { ok: true }, empty: "" },
  steps: { fetch: { output: { status: 200, body: { items: [{ id: 7 }] } } } },
  execution: { id: "e-1", startedAt: "2026-11-22T00:00:00.000Z", workflowId: "w-1" },
};

const run = (source: string) => evaluateExpression(parseExpression(source), scope);

describe("expressions", () => {
  it("evaluates the documented example", () => {
    expect(run("steps.fetch.output.status == 200 && input.q != ''")).toBe(true);
  });

  it("compares numbers and strings, with precedence and parentheses", () => {
    expect(run("input.n > 3 && input.n <= 4")).toBe(true);
    expect(run("input.q < 'dogs'")).toBe(true);
    expect(run("true || false && false")).toBe(true);
    expect(run("(true || false) && false")).toBe(false);
    expect(run("!input.nested.ok || input.n >= 4")).toBe(true);
    expect(run("!(input.n == 4)")).toBe(false);
    expect(run("-1 < 0")).toBe(true);
  });

  it("supports in over arrays and strings, and array literals", () => {
    expect(run("'a' in input.tags")).toBe(true);
    expect(run("'z' in input.tags")).toBe(false);
    expect(run("input.n in [1, 2, 4]")).toBe(true);
    expect(run("'at' in input.q")).toBe(true);
  });

  it("reads nested paths with indexes and compares structures deeply", () => {
    expect(run("steps.fetch.output.body.items[0].id == 7")).toBe(true);
    expect(run("steps.fetch.output.body.items.0.id == 7")).toBe(true);
    expect(run("input.tags == ['a', 'b']")).toBe(true);
    expect(run("null == null && input.empty == ''")).toBe(true);
  });

  it("treats empty strings and arrays as false in conditions", () => {
    expect(evaluateCondition(parseExpression("input.empty"), scope)).toBe(false);
    expect(evaluateCondition(parseExpression("input.tags"), scope)).toBe(true);
  });

  it("fails on unknown paths rather than treating them as empty", () => {
    expect(() => run("input.missing == ''")).toThrow(PathError);
  });

  it("refuses comparisons across types", () => {
    expect(() => run("input.q > 3")).toThrow(ExpressionError);
    expect(() => run("1 in 2")).toThrow(ExpressionError);
  });

  it.each(["", "a ==", "(a == 1", "a == 1)", "a === 1", "1 2", "'open", "a & b", "in a", "[1,"])(
    "rejects %j",
    (source) => {
      expect(() => parseExpression(source)).toThrow(ExpressionError);
    },
  );

  it("lists the paths an expression reads", () => {
    const paths = expressionPaths(parseExpression("steps.a.output.x == input.y || execution.id in [steps.b.output]"));
    expect(paths.map((p) => p.text)).toEqual(["steps.a.output.x", "input.y", "execution.id", "steps.b.output"]);
  });

  it("never evaluates code", () => {
    expect(() => parseExpression("constructor.constructor('return 1')()")).toThrow(ExpressionError);
    expect(() => run("input.constructor == 1")).toThrow(PathError);
  });
});
