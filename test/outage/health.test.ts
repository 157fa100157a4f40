import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { callJson } from "../helpers/http";

/** This project's Worker reaches Postgres through a relay the test can cut. */
const relay = (state: "up" | "down") => fetch(`${env.TEST_OUTAGE_CONTROL_URL}/${state}`, { method: "POST" });

describe("health", () => {
  afterEach(async () => {
    await relay("up");
  });

  it("answers liveness without touching the database", async () => {
    await relay("down");
    const { status, body, headers } = await callJson("/health/live");
    expect(status).toBe(200);
    expect(body).toEqual({ status: "ok" });
    expect(headers.get("x-request-id")).toMatch(/[0-9a-f-]{36}/);
  });

  it("turns 503 while the database is unreachable and 200 once it returns", async () => {
    const before = await callJson("/health/ready");
    expect(before.status).toBe(200);
    expect(before.body.checks).toContainEqual(expect.objectContaining({ name: "database", ok: true }));

    await relay("down");
    const down = await callJson("/health/ready");
    expect(down.status).toBe(503);
    expect(down.body.status).toBe("unavailable");
    expect(down.body.checks).toContainEqual(expect.objectContaining({ name: "database", ok: false }));

    await relay("up");
    expect((await callJson("/health/ready")).status).toBe(200);
  });
});
