import { describe, expect, it } from "vitest";
import { renderToolUrl } from "../../src/agents/tools/http-tool";
import type { Scope } from "../../src/engine/paths";
import {
  collectTemplatePaths,
  parseTemplate,
  renderHeader,
  renderRequestValue,
  renderTemplates,
  renderText,
  type SecretSlot,
  TemplateError,
} from "../../src/engine/template";
import { renderUrl } from "../../src/engine/url-template";

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

describe("request templates (data is never a template)", () => {
  const data: Scope = {
    input: {
      q: "a b/c?d#e",
      dots: "..",
      dot: ".",
      plant: "{{secrets.KEY}}",
      crlf: "x\r\nInjected: 1",
      host: "evil.test",
    },
    steps: {},
    execution: { id: "exec-1", startedAt: "2026-11-22T00:00:00.000Z", workflowId: "wf-1" },
  };

  it("percent-encodes values in a URL's path and query", () => {
    expect(renderUrl("https://api.test/items/{{input.q}}?q={{input.q}}", data)).toEqual([
      "https://api.test/items/a%20b%2Fc%3Fd%23e?q=a%20b%2Fc%3Fd%23e",
    ]);
  });

  it("lets a template form the scheme or host only when it is the whole URL", () => {
    expect(() => renderUrl("https://{{input.host}}/x", data)).toThrow(TemplateError);
    expect(() => renderUrl("{{input.host}}/x", data)).toThrow(TemplateError);
    expect(() => renderUrl("https://api.test{{input.q}}", data)).toThrow(TemplateError);
    expect(renderUrl("{{input.q}}", data)).toEqual(["a b/c?d#e"]);
  });

  it("refuses a . or .. path segment made by a template, in steps and tools alike", () => {
    expect(() => renderUrl("https://api.test/files/{{input.dots}}/secret", data)).toThrow(/\. or \.\. segment/);
    expect(() => renderUrl("https://api.test/files/{{input.dot}}", data)).toThrow(TemplateError);
    expect(() => renderUrl("https://api.test/files/%2{{input.dot}}", data)).not.toThrow();
    expect(renderUrl("https://api.test/files/x{{input.dots}}", data)).toEqual(["https://api.test/files/x.."]);
    expect(renderUrl("https://api.test/files?p={{input.dots}}", data)).toEqual(["https://api.test/files?p=.."]);
    expect(() => renderToolUrl("https://api.test/files/{{path}}/x", { path: ".." }, new Set())).toThrow(TemplateError);
    expect(renderToolUrl("https://api.test/files/{{path}}", { path: "a/../b" }, new Set())).toEqual([
      "https://api.test/files/a%2F..%2Fb",
    ]);
  });

  it("refuses line breaks in header values", () => {
    expect(() => renderHeader("v {{input.crlf}}", data, ["headers", "x"], [])).toThrow(/line break/);
    expect(() => renderHeader("{{input.crlf}}", data, ["headers", "x"], [])).toThrow(/line break/);
  });

  it("records the secrets the definition names as slots, and data as literal text", () => {
    const slots: SecretSlot[] = [];
    const body = renderRequestValue(
      { a: "{{input.plant}}", b: "Bearer {{secrets.TOKEN}} for {{input.plant}}", c: ["{{secrets.OTHER}}"] },
      data,
      ["body"],
      slots,
    );
    expect(body).toEqual({
      a: "{{secrets.KEY}}",
      b: "Bearer {{secrets.TOKEN}} for {{secrets.KEY}}",
      c: ["{{secrets.OTHER}}"],
    });
    expect(slots).toEqual([
      { at: ["body", "b"], text: ["Bearer ", { secret: "TOKEN" }, " for {{secrets.KEY}}"] },
      { at: ["body", "c", 0], text: [{ secret: "OTHER" }] },
    ]);
    expect(renderUrl("https://api.test/{{input.plant}}?k={{secrets.K}}", data)).toEqual([
      "https://api.test/%7B%7Bsecrets.KEY%7D%7D?k=",
      { secret: "K" },
    ]);
  });
});
