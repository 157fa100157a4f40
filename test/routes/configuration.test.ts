import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { signIn } from "../helpers/users";

/** Calls the Worker with a copy of the test settings changed by `change` (a fresh settings cache). */
async function callWith(change: Record<string, string | undefined>, path: string, init: RequestInit = {}) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`https://ipa.test${path}`, init),
    { ...env, ...change } as never,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { status: response.status, body: (await response.json()) as any };
}

function loggedLines(spy: { mock: { calls: unknown[][] } }): any[] {
  return spy.mock.calls.map((args) => JSON.parse(String(args[0])));
}

describe("configuration errors", () => {
  afterEach(() => vi.restoreAllMocks());

  it("answers a missing JWT_SECRET with a generic 500 and names the setting only in the logs", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await callWith({ JWT_SECRET: undefined }, "/api/v1/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "a@example.test", password: "whatever-password" }),
    });
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe("CONFIGURATION_ERROR");
    expect(JSON.stringify(res.body)).not.toContain("JWT_SECRET");
    const logged = loggedLines(errors).find((line) => line.message === "server_error");
    expect(logged).toMatchObject({ status: 500, code: "CONFIGURATION_ERROR", requestId: res.body.error.requestId });
    expect(logged.problems).toEqual(["JWT_SECRET: is required"]);
  });

  it("reports a malformed setting in /health/ready by name, never by value", async () => {
    const res = await callWith({ JWT_SECRET: "short-secret-value", ENCRYPTION_KEYS: "{not json" }, "/health/ready");
    expect(res.status).toBe(503);
    const check = res.body.checks.find((c: { name: string }) => c.name === "configuration");
    expect(check.ok).toBe(false);
    expect(check.detail).toContain("JWT_SECRET: must be at least 32 bytes");
    expect(check.detail).toContain("ENCRYPTION_KEYS: must be JSON");
    expect(JSON.stringify(res.body)).not.toContain("short-secret-value");
  });

  it("logs every unexpected 5xx with its cause and request id", async () => {
    const user = await signIn("user");
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await callWith(
      { DATABASE_URL: "postgres://nobody:wrong@127.0.0.1:1/none", NEON_WS_PROXY: "127.0.0.1:1/v2" },
      "/api/v1/workflows",
      { headers: { authorization: `Bearer ${user.token}` } },
    );
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe("INTERNAL_ERROR");
    const logged = loggedLines(errors).find((line) => line.message === "server_error");
    expect(logged).toMatchObject({ requestId: res.body.error.requestId, path: "/api/v1/workflows", status: 500 });
    expect(logged.error).toEqual(expect.any(String));
  });
});
