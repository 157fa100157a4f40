/**
 * Runs with FAULT_INJECTION={"failReports":7}: every attempt's first runner (for an http step's
 * first attempt, the execution's object itself) runs the step and then cannot report it. The
 * result must be reported later, and the step must not run again.
 */
import { describe, expect, it } from "vitest";
import { logsOf, start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";

describe("a consumer that cannot report after the step ran", () => {
  it("reports the stashed result from the next claim and never runs the step twice", async () => {
    const user = await signIn("user");
    const target = await scriptEndpoint([{ status: 200, body: { charged: true } }]);
    const id = await start(
      user.token,
      await workflowWith(user.token, {
        steps: [{ id: "charge", type: "http", request: { url: target.url, method: "POST", body: { amount: 5 } } }],
      }),
    );
    const done = await waitForExecution(user.token, id, undefined, 100_000);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "charge").output).toMatchObject({ body: { charged: true } });
    const requests = await target.requests();
    expect(requests).toHaveLength(1);
    expect(requests[0].headers["idempotency-key"]).toBe(stepOf(done, "charge").idempotencyKey);
    // The attempt was given up on (its lease or its timeout ran out) before the stashed result was reported.
    const logs = await logsOf(user.token, id);
    expect(logs.some((line) => ["lease_expired", "retry"].includes(line.data?.reason))).toBe(true);
  }, 120_000);
});
