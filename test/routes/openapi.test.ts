import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import committed from "../../openapi.json";
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

  it("serves exactly the committed openapi.json (npm run build:openapi regenerates it)", async () => {
    const { body } = await callJson("/api/v1/openapi.json");
    expect(body).toEqual(committed);
  });

  it("gives every operation a unique operationId, a summary, tags, security and its error responses", async () => {
    const { body } = await callJson("/api/v1/openapi.json");
    const seen = new Set<string>();
    const schemes = Object.keys(body.components.securitySchemes);
    for (const [path, operations] of Object.entries<Record<string, any>>(body.paths)) {
      for (const [method, operation] of Object.entries<any>(operations)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(operation.operationId, where).toMatch(/^[a-z][A-Za-z]+$/);
        expect(seen.has(operation.operationId), `${where}: ${operation.operationId} twice`).toBe(false);
        seen.add(operation.operationId);
        expect(operation.summary, where).toBeTruthy();
        expect(operation.tags?.length, where).toBeGreaterThan(0);
        expect(Array.isArray(operation.security), where).toBe(true);
        for (const requirement of operation.security)
          for (const name of Object.keys(requirement)) expect(schemes).toContain(name);
        // The probes answer 200 or 503 and nothing else: they take no input and need no credential.
        if (!path.startsWith("/health/"))
          expect(
            Object.keys(operation.responses).some((code) => code.startsWith("4")),
            where,
          ).toBe(true);
      }
    }
    expect(seen.size).toBeGreaterThan(60);
    // /health and /metrics are documented too, at the origin rather than under /api/v1.
    for (const path of ["/health/live", "/health/ready", "/metrics"])
      expect(body.paths[path].get.servers, path).toEqual([expect.objectContaining({ url: "/" })]);
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
