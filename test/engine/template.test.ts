import { describe, expect, it } from "vitest";
import type { Scope } from "../../src/engine/paths";
import {
  collectTemplatePaths,
  parseTemplate,
  renderTemplates,
  renderText,
  TemplateError,
} from "../../src/engine/template";

const scope: Scope = {
  input: { name: "Ada", n: 3, list: [1, 2] },
  steps: { fetch: { output: { body: { items: [1, 2, 3] }, status: 200 } } },
  execution: { id: "exec-1", startedAt: "2026-11-22T00:00:00.000Z", workflowId: "wf-1" },
};

describe("templates", () => {
  it("yields the raw value for a string that is exactly one template", () => {
    expect(renderTemplates("{{steps.fetch.output.body}}", scope)).toEqual({ items: [1, 2, 3] });
    expect(renderTemplates("{{ input.n }}", scope)).toBe(3);
  });

  it("stringifies templates inside longer text", () => {
    expect(renderTemplates("Hi {{input.name}}, items={{steps.fetch.output.body.items}} n={{input.n}}", scope)).toBe(
      "Hi Ada, items=[1,2,3] n=3",
    );
    expect(renderText("{{input.list}}", scope)).toBe("[1,2]");
  });

  it("renders nested objects and arrays, leaving other values alone", () => {
    expect(renderTemplates({ a: ["{{input.name}}", 5, null], b: { c: "{{execution.id}}" } }, scope)).toEqual({
      a: ["Ada", 5, null],
      b: { c: "exec-1" },
    });
  });

  it("fails on unknown paths", () => {
    expect(() => renderTemplates("{{input.nope}}", scope)).toThrow(TemplateError);
    expect(() => renderTemplates("x {{steps.other.output}}", scope)).toThrow(TemplateError);
  });

  it("rejects malformed templates", () => {
    expect(() => parseTemplate("{{input.name")).toThrow(TemplateError);
    expect(() => parseTemplate("{{ 1 + 2 }}")).toThrow(TemplateError);
  });

  it("collects template paths with the JSON path holding them", () => {
    const found = collectTemplatePaths(
      { url: "https://x/{{input.q}}", body: { list: ["{{steps.a.output}}"] } },
      "request",
    );
    expect(found.map((f) => [f.at, f.path.text])).toEqual([
      ["request.url", "input.q"],
      ["request.body.list.0", "steps.a.output"],
    ]);
  });
});
