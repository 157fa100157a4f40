import { describe, expect, it } from "vitest";
import { call, callJson } from "../helpers/http";

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

  it("serves browsable docs", async () => {
    const res = await call("/api/v1/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    expect(await res.text()).toContain("/api/v1/openapi.json");
  });
});
