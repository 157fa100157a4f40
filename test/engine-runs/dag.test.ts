import { describe, expect, it } from "vitest";
import { logsOf, start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";

describe("executing a DAG", () => {
  it("runs a parallel branch and flows template values to a join", async () => {
    const user = await signIn("user");
    const api = await scriptEndpoint([{ status: 200, body: { items: [1, 2, 3], region: "eu" } }]);
    const workflowId = await workflowWith(user.token, {
      steps: [
        { id: "prepare", type: "transform", output: { query: "{{input.q}}", limit: 3 } },
        {
          id: "fetch",
          type: "http",
          request: { url: `${api.url}?q={{steps.prepare.output.query}}`, method: "GET" },
          dependsOn: ["prepare"],
        },
        { id: "count", type: "transform", output: { n: "{{steps.prepare.output.limit}}" }, dependsOn: ["prepare"] },
        {
          id: "join",
          type: "transform",
          output: {
            items: "{{steps.fetch.output.body.items}}",
            summary: "n={{steps.count.output.n}} region={{steps.fetch.output.body.region}}",
          },
          dependsOn: ["fetch", "count"],
        },
      ],
    });
    const id = await start(user.token, workflowId, { q: "cats" });
    const done = await waitForExecution(user.token, id);
    expect(done.status).toBe("completed");
    expect(done.steps.map((s: { stepId: string; status: string }) => [s.stepId, s.status])).toEqual([
      ["prepare", "completed"],
      ["fetch", "completed"],
      ["count", "completed"],
      ["join", "completed"],
    ]);
    expect(stepOf(done, "join").output).toEqual({ items: [1, 2, 3], summary: "n=3 region=eu" });
    expect(done.output).toEqual({ join: { items: [1, 2, 3], summary: "n=3 region=eu" } });
    const [request] = await api.requests();
    expect(request.path).toBe(`/s/${api.name}?q=cats`);
    expect(done.durationMs).toBeGreaterThanOrEqual(0);

    const logs = await logsOf(user.token, id);
    expect(logs.map((l) => l.seq)).toEqual(logs.map((_, i) => i + 1));
    expect(logs[0].event).toBe("execution.running");
    expect(logs.at(-1).event).toBe("execution.completed");
  });

  it("skips the branch not taken and whatever depends only on it, and joins after the condition", async () => {
    const user = await signIn("user");
    const workflowId = await workflowWith(user.token, {
      steps: [
        { id: "check", type: "condition", if: "input.n > 10", then: ["big"], else: ["small"] },
        { id: "big", type: "transform", output: "big", dependsOn: ["check"] },
        { id: "after-big", type: "transform", output: "{{steps.big.output}}!", dependsOn: ["big"] },
        { id: "small", type: "transform", output: "small {{input.n}}", dependsOn: ["check"] },
        { id: "merge", type: "transform", output: { done: true }, dependsOn: ["after-big", "small"] },
      ],
    });
    const done = await waitForExecution(user.token, await start(user.token, workflowId, { n: 3 }));
    expect(done.status).toBe("completed");
    const statuses = Object.fromEntries(
      done.steps.map((s: { stepId: string; status: string }) => [s.stepId, s.status]),
    );
    expect(statuses).toEqual({
      check: "completed",
      big: "skipped",
      "after-big": "skipped",
      small: "completed",
      merge: "completed",
    });
    expect(stepOf(done, "check").output).toEqual({ result: false });
    expect(stepOf(done, "small").output).toBe("small 3");
    expect(stepOf(done, "big").error).toMatchObject({ reason: "branch_not_taken" });
    expect(stepOf(done, "after-big").error).toMatchObject({ reason: "dependency_skipped" });
  });

  it("fails the step, not the platform, on an unknown template path", async () => {
    const user = await signIn("user");
    const workflowId = await workflowWith(user.token, {
      steps: [{ id: "t", type: "transform", output: "{{input.missing}}" }],
    });
    const done = await waitForExecution(user.token, await start(user.token, workflowId, {}));
    expect(done.status).toBe("failed");
    expect(stepOf(done, "t")).toMatchObject({ status: "failed", attempt: 1, error: { reason: "template_error" } });
    expect(done.error).toMatchObject({ stepId: "t", reason: "template_error" });
  });
});
