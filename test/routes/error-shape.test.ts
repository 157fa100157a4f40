import { describe, expect, it } from "vitest";
import { call, callJson } from "../helpers/http";

function expectErrorShape(body: any, code: string) {
  expect(body.error).toMatchObject({ code, message: expect.any(String), requestId: expect.any(String) });
  expect(new Date(body.error.timestamp).toISOString()).toBe(body.error.timestamp);
  expect(JSON.stringify(body)).not.toMatch(/at \w+ \(|\.ts:\d+|select |insert /i);
}

describe("error shape", () => {
  it("answers an unknown route with 404 in the error shape", async () => {
    const { status, body, headers } = await callJson("/api/v1/no-such-thing");
    expect(status).toBe(404);
    expectErrorShape(body, "NOT_FOUND");
    expect(body.error.requestId).toBe(headers.get("x-request-id"));
  });

  it("keeps a caller's sane request id and replaces an unsafe one", async () => {
    const kept = await call("/health/live", { headers: { "x-request-id": "trace-1234abcd" } });
    expect(kept.headers.get("x-request-id")).toBe("trace-1234abcd");
    const replaced = await call("/health/live", { headers: { "x-request-id": "<script>" } });
    expect(replaced.headers.get("x-request-id")).not.toBe("<script>");
  });

  it("refuses a body over 1 MB with 413", async () => {
    const big = JSON.stringify({ blob: "x".repeat(1024 * 1024 + 10) });
    const { status, body } = await callJson("/api/v1/auth/login", { body: big });
    expect(status).toBe(413);
    expectErrorShape(body, "PAYLOAD_TOO_LARGE");
  });

  it("refuses a non-JSON body with 415", async () => {
    const { status, body } = await callJson("/api/v1/auth/login", {
      body: "email=a&password=b",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(status).toBe(415);
    expectErrorShape(body, "UNSUPPORTED_MEDIA_TYPE");
  });
});
