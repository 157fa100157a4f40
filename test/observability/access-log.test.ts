/**
 * The access log: every request ends in exactly one JSON line naming its request id, method, path
 * (never the query string, which can carry a stream ticket), status, duration and caller — written
 * after the answer, so the caller does not wait for it.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { call } from "../helpers/http";
import { signIn } from "../helpers/users";

const lines: string[] = [];

afterEach(() => {
  vi.restoreAllMocks();
  lines.length = 0;
});

function capture(): void {
  for (const method of ["log", "error"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    });
  }
}

/** The access-log lines of one request id. */
function accessLines(requestId: string): any[] {
  return lines
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line))
    .filter((entry) => entry.message === "request" && entry.requestId === requestId);
}

describe("the access log", () => {
  it("writes one line per request after the answer, with the path but not the query", async () => {
    const user = await signIn("user");
    capture();
    const listed = await call("/api/v1/workflows?limit=5&ticket=not-for-logs", { token: user.token });
    const refused = await call("/api/v1/workflows");
    expect(listed.status).toBe(200);
    expect(refused.status).toBe(401);
    for (const [response, status, userId] of [
      [listed, 200, user.id],
      [refused, 401, undefined],
    ] as const) {
      const requestId = response.headers.get("x-request-id") as string;
      await expect.poll(() => accessLines(requestId).length).toBe(1);
      const [entry] = accessLines(requestId);
      expect(entry).toMatchObject({ level: "info", method: "GET", path: "/api/v1/workflows", status });
      expect(entry.userId).toBe(userId);
      expect(entry.durationMs).toBeGreaterThanOrEqual(0);
    }
    expect(lines.some((line) => line.includes("not-for-logs"))).toBe(false);
  });
});
