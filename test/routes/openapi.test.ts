import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { callJson } from "../helpers/http";

describe("OpenAPI", () => {
  it("serves an OpenAPI 3.1 document generated from the route schemas", async () => {
    const { status, body } = await callJson("/api/v1/openapi.json");
    expect(status).toBe(200);
    expect(body.openapi).toBe("3.1.0");
    for (const path of [
      "/auth/login",
      "/users/{id}",
      "/workflows/{id}/versions/{n}",
      "/agents/{id}/tools/{toolId}",
      "/audit/verify",
    ]) {
      expect(Object.keys(body.paths)).toContain(path);
    }
    expect(body.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    const createWorkflow = body.paths["/workflows"].post;
    expect(createWorkflow.requestBody.content["application/json"].schema).toBeDefined();
    expect(createWorkflow.responses["422"]).toBeDefined();
    expect(body.components.schemas.CreateVersion).toBeDefined();
  });

  it("serves browsable docs from this origin only", async () => {
    const res = await exports.default.fetch(new Request("https://ipa.test/api/v1/docs", { redirect: "manual" }));
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/docs/");
    // The page and its scripts are static assets; nothing is loaded from another origin.
    const page = await env.ASSETS.fetch("https://ipa.test/docs/");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('src="/docs/swagger-ui-bundle.js"');
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script>(?!<)/);
    expect((await env.ASSETS.fetch("https://ipa.test/docs/docs.js")).status).toBe(200);
    expect(await (await env.ASSETS.fetch("https://ipa.test/docs/swagger-ui-bundle.js")).text()).toContain(
      "SwaggerUIBundle",
    );
  });
});
