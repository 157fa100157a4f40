/**
 * The outbox coalesces (SPEC §5, issue "Scale"): the transitions of a quick burst reach Postgres
 * together, not one flush each. Each flush is one transaction, so the distinct transaction ids
 * (xmin) of an execution's log rows count the flushes that wrote them.
 */
import { describe, expect, it } from "vitest";
import { query } from "../helpers/db";
import { logsOf, start, waitForExecution, workflowWith } from "../helpers/executions";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";

describe("outbox flushes", () => {
  it("writes a burst of transitions to Postgres in a few transactions, the last one as soon as it ends", async () => {
    const user = await signIn("user");
    const target = await scriptEndpoint([{ status: 200, body: { ok: true } }]);
    const steps = [
      { id: "a", type: "http", request: { url: target.url } },
      { id: "b", type: "http", request: { url: target.url }, dependsOn: ["a"] },
      { id: "c", type: "http", request: { url: target.url }, dependsOn: ["b"] },
      ...[1, 2, 3, 4].map((n) => ({ id: `t${n}`, type: "transform", output: n, dependsOn: ["c"] })),
    ];
    const id = await start(user.token, await workflowWith(user.token, { steps }));
    expect((await waitForExecution(user.token, id)).status).toBe("completed");
    const lines = await logsOf(user.token, id);
    const [flushes] = await query<{ n: number }>(
      "select count(distinct xmin::text)::int as n from execution_logs where execution_id = $1",
      [id],
    );
    expect(lines.length).toBeGreaterThan(15);
    expect(flushes.n).toBeLessThanOrEqual(4);
  });
});
