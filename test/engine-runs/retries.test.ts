import { describe, expect, it } from "vitest";
import { logsOf, start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";

describe("retries", () => {
  it("retries a failing http step with growing delays and one Idempotency-Key, then fails the execution", async () => {
    const user = await signIn("user");
    const target = await scriptEndpoint([{ status: 503, body: { error: "busy" } }]);
    const workflowId = await workflowWith(user.token, {
      steps: [
        {
          id: "call",
          type: "http",
          request: { url: target.url, method: "POST", body: { q: "{{input.q}}" } },
          retry: { maxAttempts: 3, initialDelayMs: 300, factor: 2, maxDelayMs: 5000 },
        },
        { id: "after", type: "transform", output: 1, dependsOn: ["call"] },
      ],
    });
    const done = await waitForExecution(user.token, await start(user.token, workflowId, { q: "x" }));
    expect(done.status).toBe("failed");
    expect(stepOf(done, "call")).toMatchObject({
      status: "failed",
      attempt: 3,
      retries: 2,
      error: { reason: "unexpected_status", status: 503 },
    });
    expect(stepOf(done, "after")).toMatchObject({ status: "skipped", error: { reason: "execution_failed" } });
    expect(done.error).toMatchObject({ stepId: "call", reason: "unexpected_status" });

    const requests = await target.requests();
    expect(requests).toHaveLength(3);
    const keys = requests.map((r) => r.headers["idempotency-key"]);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toBe(stepOf(done, "call").idempotencyKey);
    expect(JSON.parse(requests[0].body)).toEqual({ q: "x" });
    const gaps = [requests[1].at - requests[0].at, requests[2].at - requests[1].at];
    expect(gaps[0]).toBeGreaterThanOrEqual(300);
    expect(gaps[1]).toBeGreaterThanOrEqual(600);
    expect(gaps[1]).toBeGreaterThan(gaps[0]);

    const retryLogs = (await logsOf(user.token, done.id)).filter(
      (l) => l.event === "log" && l.data?.reason === "retry",
    );
    expect(retryLogs.map((l) => l.data.delayMs)).toEqual([300, 600]);
  });

  it("continues past a failed step with continueOnError, handing its error on as output", async () => {
    const user = await signIn("user");
    const target = await scriptEndpoint([{ status: 500 }]);
    const workflowId = await workflowWith(user.token, {
      steps: [
        { id: "flaky", type: "http", request: { url: target.url }, retry: { maxAttempts: 1 }, continueOnError: true },
        {
          id: "after",
          type: "transform",
          output: { saw: "{{steps.flaky.output.error.reason}}" },
          dependsOn: ["flaky"],
        },
      ],
    });
    const done = await waitForExecution(user.token, await start(user.token, workflowId));
    expect(done.status).toBe("completed");
    expect(stepOf(done, "flaky")).toMatchObject({ status: "failed", attempt: 1 });
    expect(stepOf(done, "after").output).toEqual({ saw: "unexpected_status" });
  });

  it("succeeds on a later attempt and does not retry client errors", async () => {
    const user = await signIn("user");
    const recovering = await scriptEndpoint([{ status: 502 }, { status: 200, body: { ok: 1 } }]);
    const refusing = await scriptEndpoint([{ status: 404 }]);
    const workflowId = await workflowWith(user.token, {
      steps: [
        {
          id: "recovers",
          type: "http",
          request: { url: recovering.url },
          retry: { maxAttempts: 3, initialDelayMs: 100 },
        },
        {
          id: "refused",
          type: "http",
          request: { url: refusing.url },
          retry: { maxAttempts: 3, initialDelayMs: 100 },
          dependsOn: ["recovers"],
        },
      ],
    });
    const done = await waitForExecution(user.token, await start(user.token, workflowId));
    expect(stepOf(done, "recovers")).toMatchObject({
      status: "completed",
      attempt: 2,
      output: { status: 200, body: { ok: 1 } },
    });
    expect(stepOf(done, "refused")).toMatchObject({ status: "failed", attempt: 1, error: { status: 404 } });
    expect(await refusing.requests()).toHaveLength(1);
  });

  it("times out a slow attempt and retries it", async () => {
    const user = await signIn("user");
    const slow = await scriptEndpoint([
      { status: 200, delayMs: 3000 },
      { status: 200, body: "fast" },
    ]);
    const workflowId = await workflowWith(user.token, {
      steps: [
        {
          id: "slow",
          type: "http",
          request: { url: slow.url },
          timeoutSeconds: 1,
          retry: { maxAttempts: 2, initialDelayMs: 100 },
        },
      ],
    });
    const done = await waitForExecution(user.token, await start(user.token, workflowId));
    expect(done.status).toBe("completed");
    expect(stepOf(done, "slow")).toMatchObject({ attempt: 2, output: { body: "fast" } });
    const logs = await logsOf(user.token, done.id);
    expect(logs.find((l) => l.data?.reason === "retry")?.data.error.reason).toBe("timeout");
  });

  it("refuses loopback, private and metadata addresses outside the allowlist, without retrying", async () => {
    const user = await signIn("user");
    const urls = [
      "http://localhost:8080/x",
      "http://169.254.169.254/latest/meta-data",
      "http://10.1.2.3/",
      "http://[::1]/",
      "http://[::ffff:127.0.0.2]/",
    ];
    const workflowId = await workflowWith(user.token, {
      steps: urls.map((url, i) => ({ id: `s${i}`, type: "http", request: { url }, continueOnError: true })),
    });
    const done = await waitForExecution(user.token, await start(user.token, workflowId));
    for (const step of done.steps)
      expect(step).toMatchObject({ status: "failed", attempt: 1, error: { reason: "address_refused" } });
  });

  it("fails the execution at its own deadline", async () => {
    const user = await signIn("user");
    const workflowId = await workflowWith(user.token, {
      timeoutSeconds: 1,
      steps: [{ id: "wait", type: "delay", seconds: 60 }],
    });
    const done = await waitForExecution(user.token, await start(user.token, workflowId));
    expect(done.status).toBe("failed");
    expect(done.error).toMatchObject({ reason: "timeout" });
    expect(stepOf(done, "wait")).toMatchObject({ status: "skipped", error: { reason: "execution_failed" } });
  });
});
