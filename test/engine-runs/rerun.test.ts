/** Reruns from any step (docs/engine.md): plans, versions, new input, attempts across runs. */
import { describe, expect, it } from "vitest";
import { logsOf, start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { createVersion } from "../helpers/fixtures";
import { callJson } from "../helpers/http";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";

const rerun = (token: string, id: string, body: unknown) => callJson(`/api/v1/executions/${id}/rerun`, { token, body });

async function completedRun(token: string, url: string) {
  const workflowId = await workflowWith(token, {
    steps: [
      { id: "fetch", type: "http", request: { url, method: "POST", body: { q: "{{input.q}}" } } },
      { id: "shape", type: "transform", output: { got: "{{steps.fetch.output.body.n}}" }, dependsOn: ["fetch"] },
      { id: "notify", type: "http", request: { url: `${url}/notify` }, dependsOn: ["shape"] },
      { id: "stamp", type: "transform", output: "{{execution.id}}" },
    ],
  });
  const id = await start(token, workflowId, { q: "a" });
  return { workflowId, id, first: await waitForExecution(token, id) };
}

describe("rerun", () => {
  it("answers the plan with the side effects that would fire again, and changes nothing", async () => {
    const user = await signIn("user");
    const api = await scriptEndpoint([{ status: 200, body: { n: 1 } }]);
    const { id } = await completedRun(user.token, api.url);
    const plan = await rerun(user.token, id, { fromStep: "shape", dryRun: true });
    expect(plan.status).toBe(200);
    expect(plan.body).toMatchObject({
      dryRun: true,
      status: "completed",
      plan: { run: 2, keep: ["fetch", "stamp"], sideEffects: ["notify"] },
    });
    expect(plan.body.plan.rerun.map((s: any) => [s.stepId, s.sideEffects])).toEqual([
      ["shape", false],
      ["notify", true],
    ]);
    expect((await waitForExecution(user.token, id)).run).toBe(1);
  });

  it("runs the step and its downstream again with new keys, continuing the attempt numbers", async () => {
    const user = await signIn("user");
    const api = await scriptEndpoint([
      { status: 200, body: { n: 1 } },
      { status: 200, body: { n: 2 } },
    ]);
    const { id, first } = await completedRun(user.token, api.url);
    const res = await rerun(user.token, id, { fromStep: "fetch" });
    expect(res.status).toBe(202);
    const second = await waitForExecution(user.token, id, (e) => e.run === 2 && e.status === "completed");
    expect(stepOf(second, "shape").output).toEqual({ got: 2 });
    expect(stepOf(second, "fetch")).toMatchObject({ attempt: 2, run: 2 });
    expect(stepOf(second, "fetch").idempotencyKey).not.toBe(stepOf(first, "fetch").idempotencyKey);
    expect(stepOf(second, "stamp")).toMatchObject({ attempt: 1, run: 1 });
    const keys = (await api.requests())
      .filter((r) => !r.path.endsWith("/notify"))
      .map((r) => r.headers["idempotency-key"]);
    expect(new Set(keys).size).toBe(2);
    expect((await logsOf(user.token, id)).filter((l) => l.data?.reason === "rerun").map((l) => l.stepId)).toEqual([
      "fetch",
      "shape",
      "notify",
    ]);
  });

  it("reruns on another version and with new input: steps that read the input run again", async () => {
    const user = await signIn("user");
    const api = await scriptEndpoint([{ status: 200, body: { n: 5 } }]);
    const { id, workflowId } = await completedRun(user.token, api.url);
    await createVersion(user.token, workflowId, {
      steps: [
        { id: "fetch", type: "http", request: { url: api.url, method: "POST", body: { q: "{{input.q}}" } } },
        {
          id: "shape",
          type: "transform",
          output: { got: "{{steps.fetch.output.body.n}}", v: 2 },
          dependsOn: ["fetch"],
        },
        { id: "stamp", type: "transform", output: "{{execution.id}}" },
      ],
    });
    const planned = await rerun(user.token, id, { fromStep: "shape", version: 2, input: { q: "b" }, dryRun: true });
    expect(planned.body.plan.keep).toEqual(["stamp"]);
    expect(planned.body.plan.sideEffects).toEqual(["fetch"]);
    expect((await rerun(user.token, id, { fromStep: "shape", version: 2, input: { q: "b" } })).status).toBe(202);
    const done = await waitForExecution(user.token, id, (e) => e.run === 2 && e.status === "completed");
    expect(done.versionNumber).toBe(2);
    expect(done.input).toEqual({ q: "b" });
    expect(done.steps.map((s: any) => s.stepId).sort()).toEqual(["fetch", "shape", "stamp"]);
    expect(stepOf(done, "shape").output).toEqual({ got: 5, v: 2 });
    expect(JSON.parse((await api.requests()).at(-1)?.body ?? "{}")).toEqual({ q: "b" });
  });

  it("refuses a running execution, an unknown step, and a viewer", async () => {
    const user = await signIn("user");
    const id = await start(user.token, await workflowWith(user.token, { steps: [{ id: "gate", type: "approval" }] }));
    await waitForExecution(user.token, id, (e) => stepOf(e, "gate").status === "waiting");
    expect((await rerun(user.token, id, { fromStep: "gate" })).status).toBe(409);
    await callJson(`/api/v1/executions/${id}/cancel`, { token: user.token, method: "POST" });
    await waitForExecution(user.token, id);
    expect((await rerun(user.token, id, { fromStep: "nope" })).status).toBe(404);
    const viewer = await signIn("viewer");
    expect((await rerun(viewer.token, id, { fromStep: "gate" })).status).toBe(403);
  });
});
