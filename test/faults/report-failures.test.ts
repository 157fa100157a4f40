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
    // Reported within the attempt's time: a lease shorter than the attempt's timeout lets the next
    // claim report the stash before the deadline, instead of the attempt timing out and retrying.
    expect(stepOf(done, "charge").attempt).toBe(1);
    // The attempt was given up on (its lease or its timeout ran out) before the stashed result was reported.
    const logs = await logsOf(user.token, id);
    expect(logs.some((line) => ["lease_expired", "retry"].includes(line.data?.reason))).toBe(true);
  }, 120_000);

  it("holds per map item: each item's side effect happens once, under its own key, and the map completes", async () => {
    const user = await signIn("user");
    const target = await scriptEndpoint([{ status: 200, body: { charged: true } }]);
    const id = await start(
      user.token,
      await workflowWith(user.token, {
        steps: [
          {
            id: "charges",
            type: "map",
            items: "{{input.amounts}}",
            concurrency: 5,
            step: { type: "http", request: { url: `${target.url}?amount={{item}}`, method: "POST" } },
          },
        ],
      }),
      { amounts: [1, 2, 3, 4, 5] },
    );
    const done = await waitForExecution(user.token, id, undefined, 100_000);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "charges").output.items).toHaveLength(5);
    const requests = await target.requests();
    // Every item ran once, though no first runner could report it.
    expect(requests.map((request) => request.path.split("=")[1]).sort()).toEqual(["1", "2", "3", "4", "5"]);
    const keys = requests.map((request) => request.headers["idempotency-key"]);
    expect(new Set(keys).size).toBe(5);
    expect(keys.every((key) => key.startsWith(`${stepOf(done, "charges").idempotencyKey}[`))).toBe(true);
  }, 120_000);
});
