import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { callJson } from "../helpers/http";

/** The Worker with its database reached through the relay the test can cut. */
async function readyThroughOutageRelay() {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request("https://ipa.test/health/ready"),
    { ...env, NEON_WS_PROXY: env.TEST_OUTAGE_WS_PROXY },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return {
    status: res.status,
    body: (await res.json()) as { status: string; checks: Array<{ name: string; ok: boolean }> },
  };
}

const relay = (state: "up" | "down") => fetch(`${env.TEST_OUTAGE_CONTROL_URL}/${state}`, { method: "POST" });

describe("health", () => {
  afterEach(async () => {
    await relay("up");
  });

  it("answers liveness without touching the database", async () => {
    const { status, body, headers } = await callJson("/health/live");
    expect(status).toBe(200);
    expect(body).toEqual({ status: "ok" });
    expect(headers.get("x-request-id")).toMatch(/[0-9a-f-]{36}/);
  });

  it("reports ready when the database answers", async () => {
    const { status, body } = await callJson("/health/ready");
    expect(status).toBe(200);
    expect(body.checks).toContainEqual(expect.objectContaining({ name: "database", ok: true }));
  });

  it("turns 503 while the database is unreachable and 200 once it returns", async () => {
    expect((await readyThroughOutageRelay()).status).toBe(200);

    await relay("down");
    const down = await readyThroughOutageRelay();
    expect(down.status).toBe(503);
    expect(down.body.status).toBe("unavailable");
    expect(down.body.checks).toContainEqual(expect.objectContaining({ name: "database", ok: false }));

    await relay("up");
    expect((await readyThroughOutageRelay()).status).toBe(200);
  });
});
