/**
 * Security headers on every response (docs/api.md), whatever answered it: a route, an error, the
 * catch-all 404, health and metrics. CORS answers only the origins of CORS_ORIGINS.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { call } from "../helpers/http";
import { signIn } from "../helpers/users";

function expectSecurityHeaders(res: Response, what: string) {
  expect(res.headers.get("x-content-type-options"), what).toBe("nosniff");
  expect(res.headers.get("x-frame-options"), what).toBe("DENY");
  expect(res.headers.get("referrer-policy"), what).toBe("no-referrer");
  expect(res.headers.get("strict-transport-security"), what).toMatch(/max-age=\d+/);
  const csp = res.headers.get("content-security-policy") ?? "";
  expect(csp, what).toContain("frame-ancestors 'none'");
  expect(csp, what).toContain("default-src 'none'");
  expect(res.headers.get("x-request-id"), what).toMatch(/^[0-9a-f-]{36}$/);
}

async function withOrigins(origins: string, request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(request, { ...env, CORS_ORIGINS: origins }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe("security headers", () => {
  it("are on answers, errors, the catch-all 404, health and metrics", async () => {
    const admin = await signIn("admin");
    const answers: Array<[string, Response]> = [
      ["GET /auth/me", await call("/api/v1/auth/me", { token: admin.token })],
      ["401", await call("/api/v1/auth/me")],
      ["422", await call("/api/v1/workflows", { token: admin.token, body: { nope: 1 } })],
      ["400 malformed JSON", await call("/api/v1/workflows", { token: admin.token, body: "{" })],
      ["404 route", await call("/api/v1/no/such/route")],
      ["health", await call("/health/live")],
      ["metrics", await call("/metrics", { token: admin.token })],
      ["openapi", await call("/api/v1/openapi.json")],
    ];
    for (const [what, res] of answers) {
      expectSecurityHeaders(res, what);
      await res.body?.cancel();
    }
  });

  it("answer CORS only for the configured origins", async () => {
    const preflight = (origin: string) =>
      new Request("https://ipa.test/api/v1/workflows", {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization" },
      });
    const allowed = await withOrigins("https://app.example.com", preflight("https://app.example.com"));
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    const other = await withOrigins("https://app.example.com", preflight("https://evil.example"));
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const none = await withOrigins("", preflight("https://app.example.com"));
    expect(none.headers.get("access-control-allow-origin")).toBeNull();
  });
});
