/**
 * Control flow (docs/workflows.md "Control flow"): maps, loops, workflow steps and compensation,
 * run in workerd against the real Postgres, queues and objects, with the outside world's own
 * counts (requests, keys, most at once) as the evidence.
 */
import { describe, expect, it } from "vitest";
import { start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { createAgent, createVersion, createWorkflow } from "../helpers/fixtures";
import { callJson } from "../helpers/http";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";
import { until } from "../helpers/waits";

const NO_WAIT_RETRY = { maxAttempts: 2, initialDelayMs: 0 };

async function itemsOf(token: string, id: string, stepId: string) {
  const res = await callJson(`/api/v1/executions/${id}/steps/${stepId}/items?limit=500`, { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.items as Array<{
    index: number;
    stepId: string;
    status: string;
    retries: number;
    idempotencyKey: string;
  }>;
}

describe("map", () => {
  it("runs the inner step per item with item and index, returns outputs in item order, and pages its items", async () => {
    const user = await signIn("user");
    const workflowId = await workflowWith(user.token, {
      steps: [
        { id: "list", type: "transform", output: { docs: ["a", "b", "c", "d", "e"] } },
        {
          id: "each",
          type: "map",
          items: "{{steps.list.output.docs}}",
          concurrency: 2,
          step: { type: "transform", output: { doc: "{{item}}", at: "{{index}}" } },
          dependsOn: ["list"],
        },
        { id: "merge", type: "transform", output: "{{steps.each.output.count}} done", dependsOn: ["each"] },
      ],
    });
    const id = await start(user.token, workflowId);
    const done = await waitForExecution(user.token, id);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "each").output).toEqual({
      items: ["a", "b", "c", "d", "e"].map((doc, at) => ({ doc, at })),
      failed: [],
      count: 5,
    });
    expect(stepOf(done, "merge").output).toBe("5 done");
    // One step in the view, its counts beside it; the items are paged apart.
    expect(done.steps.map((step: { stepId: string }) => step.stepId)).toEqual(["list", "each", "merge"]);
    expect(stepOf(done, "each").progress).toMatchObject({ total: 5, completed: 5, failed: 0, running: 0 });
    const items = await itemsOf(user.token, id, "each");
    expect(items.map((item) => [item.index, item.stepId, item.status])).toEqual(
      [0, 1, 2, 3, 4].map((index) => [index, `each[${index}]`, "completed"]),
    );
    const page = await callJson(`/api/v1/executions/${id}/steps/each/items?limit=2&after=1`, { token: user.token });
    expect(page.body.items.map((item: { index: number }) => item.index)).toEqual([2, 3]);
    expect(page.body.nextAfter).toBe(3);
  });

  it("never runs more items at once than its concurrency, retries an item on its own, and keys each item", async () => {
    const user = await signIn("user");
    const api = await scriptEndpoint([
      { status: 500, delayMs: 150 },
      { status: 200, body: { ok: true }, delayMs: 150 },
    ]);
    const workflowId = await workflowWith(user.token, {
      steps: [
        {
          id: "calls",
          type: "map",
          items: "{{input.ids}}",
          concurrency: 3,
          step: { type: "http", request: { url: `${api.url}?id={{item}}` }, retry: NO_WAIT_RETRY },
        },
      ],
    });
    const ids = Array.from({ length: 9 }, (_, index) => index + 1);
    const id = await start(user.token, workflowId, { ids });
    const done = await waitForExecution(user.token, id, undefined, 30_000);
    expect(done.status).toBe("completed");
    const stats = await api.stats();
    // The endpoint's own count: three at a time, never more, and parallel indeed.
    expect(stats.maxInFlight).toBeLessThanOrEqual(3);
    expect(stats.maxInFlight).toBeGreaterThanOrEqual(2);
    // The first request failed; only that item ran again, under the same key.
    expect(stats.served).toBe(10);
    const requests = await api.requests();
    const keys = requests.map((request) => request.headers["idempotency-key"]);
    expect(new Set(keys).size).toBe(9);
    expect(keys[0]).toBe(keys.find((key, index) => index > 0 && key === keys[0]));
    const items = await itemsOf(user.token, id, "calls");
    expect(items.filter((item) => item.retries === 1)).toHaveLength(1);
    expect(items.every((item) => /^.+\[\d\]$/.test(item.idempotencyKey))).toBe(true);
    expect(stepOf(done, "calls").output.items).toHaveLength(9);
  });

  it("fails once the running items settle when an item fails, and lists failures with continueOnError", async () => {
    const user = await signIn("user");
    const ok = await scriptEndpoint([{ status: 200, body: "fine" }]);
    const bad = await scriptEndpoint([{ status: 503 }]);
    const urls = [ok.url, ok.url, bad.url, ok.url, ok.url];
    const mapOf = (continueOnError: boolean) => ({
      steps: [
        {
          id: "calls",
          type: "map",
          items: "{{input.urls}}",
          concurrency: 1,
          continueOnError,
          step: { type: "http", request: { url: "{{item}}" }, retry: { maxAttempts: 1 } },
        },
      ],
    });
    const stopped = await waitForExecution(
      user.token,
      await start(user.token, await workflowWith(user.token, mapOf(false)), { urls }),
    );
    expect(stopped.status).toBe("failed");
    expect(stopped.error).toMatchObject({ reason: "item_failed", stepId: "calls" });
    expect(stopped.error.message).toContain("item 2 failed");
    // One at a time: the items after the failed one never ran.
    expect((await ok.requests()).length).toBe(2);

    const kept = await waitForExecution(
      user.token,
      await start(user.token, await workflowWith(user.token, mapOf(true)), { urls }),
    );
    expect(kept.status).toBe("completed");
    const output = stepOf(kept, "calls").output;
    expect(output.count).toBe(5);
    expect(output.failed).toEqual([{ index: 2, error: expect.objectContaining({ reason: "unexpected_status" }) }]);
    expect(output.items[2]).toBeNull();
    expect(output.items[3]).toMatchObject({ status: 200 });
  });

  it("runs an agent per item: the agents of inner steps travel with the execution", async () => {
    const admin = await signIn("admin");
    const agent = await createAgent(admin.token, { systemPrompt: "You echo." });
    const workflowId = await workflowWith(admin.token, {
      steps: [
        {
          id: "summaries",
          type: "map",
          items: "{{input.docs}}",
          concurrency: 2,
          step: { type: "agent", agentId: agent.id, prompt: "Summarize {{item}}" },
        },
      ],
    });
    const done = await waitForExecution(
      admin.token,
      await start(admin.token, workflowId, { docs: ["one", "two", "three"] }),
    );
    expect(done.status, JSON.stringify(done.error)).toBe("completed");
    const output = stepOf(done, "summaries").output;
    expect(output.failed).toEqual([]);
    expect(output.items.map((item: { text: string }) => item.text)).toEqual([
      expect.stringContaining("one"),
      expect.stringContaining("two"),
      expect.stringContaining("three"),
    ]);
  });

  it("fails with too_many_items past maxItems, and not_a_list when items is not one", async () => {
    const user = await signIn("user");
    const workflowId = await workflowWith(user.token, {
      steps: [
        {
          id: "each",
          type: "map",
          items: "{{input.list}}",
          maxItems: 3,
          step: { type: "transform", output: "{{item}}" },
        },
      ],
    });
    const many = await waitForExecution(user.token, await start(user.token, workflowId, { list: [1, 2, 3, 4] }));
    expect(many.error).toMatchObject({ reason: "too_many_items" });
    const none = await waitForExecution(user.token, await start(user.token, workflowId, { list: "nope" }));
    expect(none.error).toMatchObject({ reason: "not_a_list" });
  });
});

describe("loop", () => {
  it("polls until the expression holds, waiting between iterations, each iteration keyed apart", async () => {
    const user = await signIn("user");
    const api = await scriptEndpoint([
      { status: 200, body: { ready: false } },
      { status: 200, body: { ready: false } },
      { status: 200, body: { ready: true, url: "https://files.example/export.csv" } },
    ]);
    const workflowId = await workflowWith(user.token, {
      steps: [
        {
          id: "poll",
          type: "loop",
          step: { type: "http", request: { url: `${api.url}?try={{iteration}}` } },
          until: "last.body.ready == true",
          delaySeconds: 1,
          maxIterations: 5,
        },
        { id: "use", type: "transform", output: "{{steps.poll.output.last.body.url}}", dependsOn: ["poll"] },
      ],
    });
    const id = await start(user.token, workflowId);
    const done = await waitForExecution(user.token, id);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "poll").output).toMatchObject({ iterations: 3, last: { body: { ready: true } } });
    expect(stepOf(done, "use").output).toBe("https://files.example/export.csv");
    const requests = await api.requests();
    expect(requests.map((request) => request.path.split("?")[1])).toEqual(["try=1", "try=2", "try=3"]);
    expect(new Set(requests.map((request) => request.headers["idempotency-key"])).size).toBe(3);
    // The delay is a durable wait between iterations, not a sleep inside one.
    expect(requests[1].at - requests[0].at).toBeGreaterThanOrEqual(900);
    const iterations = await itemsOf(user.token, id, "poll");
    expect(iterations.map((item) => item.stepId)).toEqual(["poll[1]", "poll[2]", "poll[3]"]);
  });

  it("fails with loop_limit when the expression never holds", async () => {
    const user = await signIn("user");
    const workflowId = await workflowWith(user.token, {
      steps: [
        {
          id: "spin",
          type: "loop",
          step: { type: "transform", output: { n: "{{iteration}}" } },
          until: "last.n > 10",
          maxIterations: 3,
        },
      ],
    });
    const done = await waitForExecution(user.token, await start(user.token, workflowId));
    expect(done.status).toBe("failed");
    expect(done.error).toMatchObject({ reason: "loop_limit", stepId: "spin" });
  });
});

describe("workflow steps", () => {
  it("starts a child as the acting user, takes its output, and links parent and child both ways", async () => {
    const user = await signIn("user");
    const child = await workflowWith(user.token, {
      steps: [{ id: "double", type: "transform", output: { twice: "{{input.n}}{{input.n}}" } }],
    });
    const parent = await workflowWith(user.token, {
      steps: [{ id: "sub", type: "workflow", workflow: child, input: { n: "{{input.n}}" } }],
    });
    const id = await start(user.token, parent, { n: 21 });
    const done = await waitForExecution(user.token, id);
    expect(done.status).toBe("completed");
    // The child's output: its sink steps' outputs by step id.
    expect(stepOf(done, "sub").output).toEqual({ double: { twice: "2121" } });
    expect(done.children).toHaveLength(1);
    expect(done.children[0]).toMatchObject({ workflowId: child, status: "completed", parentStepId: "sub" });
    const childView = await waitForExecution(user.token, done.children[0].id);
    expect(childView).toMatchObject({ parentExecutionId: id, parentStepId: "sub", triggerType: "workflow" });
  });

  it("retries a failed child as a new child, by the step's policy", async () => {
    const user = await signIn("user");
    const flaky = await scriptEndpoint([{ status: 500 }, { status: 200, body: { fine: true } }]);
    const child = await workflowWith(user.token, {
      steps: [{ id: "call", type: "http", request: { url: flaky.url }, retry: { maxAttempts: 1 } }],
    });
    const parent = await workflowWith(user.token, {
      steps: [{ id: "sub", type: "workflow", workflow: child, retry: NO_WAIT_RETRY }],
    });
    const done = await waitForExecution(user.token, await start(user.token, parent), undefined, 30_000);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "sub")).toMatchObject({ attempt: 2, retries: 1, output: { call: { status: 200 } } });
    const statuses = done.children.map((c: { status: string }) => c.status).sort();
    expect(statuses).toEqual(["completed", "failed"]);
  });

  it("cancels the children it waits for when it is cancelled", async () => {
    const user = await signIn("user");
    const child = await workflowWith(user.token, { steps: [{ id: "wait", type: "approval" }] });
    const parent = await workflowWith(user.token, { steps: [{ id: "sub", type: "workflow", workflow: child }] });
    const id = await start(user.token, parent);
    const waiting = await waitForExecution(user.token, id, (e) => stepOf(e, "sub").status === "waiting");
    expect(stepOf(waiting, "sub").waiting).toMatchObject({ reason: "children" });
    const childId = waiting.children[0].id;
    await waitForExecution(user.token, childId, (e) => e.status === "running");
    const cancelled = await callJson(`/api/v1/executions/${id}/cancel`, { token: user.token, body: {} });
    expect(cancelled.status).toBe(200);
    const childView = await waitForExecution(user.token, childId);
    expect(childView.status).toBe("cancelled");
    expect(childView.error).toMatchObject({ reason: "parent_ended" });
  });

  it("refuses a sixth level of nesting with depth_exceeded", async () => {
    const user = await signIn("user");
    const wf = await createWorkflow(user.token);
    await createVersion(user.token, wf.id, {
      steps: [
        { id: "more", type: "condition", if: "input.level < 9", then: ["deeper"], else: [] },
        {
          id: "deeper",
          type: "workflow",
          workflow: wf.id,
          input: { level: "{{input.level}}" },
          retry: { maxAttempts: 1 },
          dependsOn: ["more"],
        },
      ],
    });
    const top = await start(user.token, wf.id, { level: 1 });
    const done = await waitForExecution(user.token, top, undefined, 40_000);
    expect(done.status).toBe("failed");
    // Levels 1-5 exist; the fifth's step is refused its child.
    let current = done;
    for (let level = 1; level < 5; level++) current = await waitForExecution(user.token, current.children[0].id);
    expect(current.children).toHaveLength(0);
    expect(current.error).toMatchObject({ reason: "depth_exceeded", stepId: "deeper" });
  });
});

describe("compensation", () => {
  it("runs the completed steps' compensations in reverse order of completion, each keyed, and records a failing one", async () => {
    const user = await signIn("user");
    const booked = await scriptEndpoint([{ status: 200, body: { ref: "R1" } }]);
    const undo = await scriptEndpoint([{ status: 200 }]);
    const undoFails = await scriptEndpoint([{ status: 500 }]);
    const broken = await scriptEndpoint([{ status: 502 }]);
    const workflowId = await workflowWith(user.token, {
      steps: [
        {
          id: "flight",
          type: "http",
          request: { url: `${booked.url}?what=flight`, method: "POST" },
          compensate: {
            type: "http",
            request: { url: `${undo.url}?undo={{steps.flight.output.body.ref}}`, method: "DELETE" },
          },
        },
        {
          id: "hotel",
          type: "http",
          request: { url: `${booked.url}?what=hotel`, method: "POST" },
          compensate: { type: "http", request: { url: undoFails.url, method: "DELETE" }, retry: NO_WAIT_RETRY },
          dependsOn: ["flight"],
        },
        {
          id: "car",
          type: "http",
          request: { url: `${booked.url}?what=car`, method: "POST" },
          compensate: { type: "http", request: { url: `${undo.url}?undo=car`, method: "DELETE" } },
          dependsOn: ["hotel"],
        },
        {
          id: "pay",
          type: "http",
          request: { url: broken.url, method: "POST" },
          retry: { maxAttempts: 1 },
          dependsOn: ["car"],
        },
      ],
    });
    const id = await start(user.token, workflowId);
    const done = await waitForExecution(user.token, id, undefined, 30_000);
    expect(done.status).toBe("failed");
    expect(done.error).toMatchObject({ stepId: "pay" });
    expect(done.compensation).toEqual({
      completed: ["car", "flight"],
      failed: [{ stepId: "hotel", error: expect.objectContaining({ reason: "unexpected_status" }) }],
      notRun: [],
    });
    const undone = await undo.requests();
    expect(undone.map((request) => request.path.split("?")[1])).toEqual(["undo=car", "undo=R1"]);
    // Between them the hotel's compensation was tried twice (its retry policy), under one key of its own.
    const hotelTries = await undoFails.requests();
    expect(hotelTries).toHaveLength(2);
    expect(hotelTries[0].headers["idempotency-key"]).toBe(hotelTries[1].headers["idempotency-key"]);
    expect(hotelTries[0].at).toBeGreaterThan(undone[0].at);
    expect(hotelTries[1].at).toBeLessThan(undone[1].at);
    expect(done.compensations.map((step: { stepId: string }) => step.stepId)).toEqual([
      "car[compensate]",
      "hotel[compensate]",
      "flight[compensate]",
    ]);
    const logs = await callJson(`/api/v1/executions/${id}/logs?limit=200`, { token: user.token });
    expect(logs.body.items.some((log: { event: string }) => log.event === "execution.compensating")).toBe(true);

    // A retry's plan names what was compensated: those steps run again.
    const plan = await callJson(`/api/v1/executions/${id}/rerun`, {
      token: user.token,
      body: { fromStep: "pay", dryRun: true },
    });
    expect(plan.status).toBe(200);
    expect(plan.body.plan).toMatchObject({ compensated: ["car", "flight"], compensationFailed: ["hotel"] });
    expect(plan.body.plan.rerun.map((step: { stepId: string }) => step.stepId)).toEqual([
      "flight",
      "hotel",
      "car",
      "pay",
    ]);
  });

  it("compensates on a cancel that asks for it, and not on one that does not", async () => {
    const user = await signIn("user");
    const undo = await scriptEndpoint([{ status: 200 }]);
    const workflowId = await workflowWith(user.token, {
      steps: [
        {
          id: "reserve",
          type: "transform",
          output: "seat 12A",
        },
        {
          id: "charge",
          type: "http",
          request: { url: `${undo.url}?do=charge`, method: "POST" },
          compensate: { type: "http", request: { url: `${undo.url}?undo=charge`, method: "POST" } },
        },
        { id: "confirm", type: "approval", dependsOn: ["charge"] },
      ],
    });
    for (const compensate of [true, false]) {
      const id = await start(user.token, workflowId);
      await waitForExecution(user.token, id, (e) => stepOf(e, "confirm").status === "waiting");
      const res = await callJson(`/api/v1/executions/${id}/cancel`, { token: user.token, body: { compensate } });
      expect(res.status).toBe(200);
      const done = await waitForExecution(user.token, id);
      expect(done.status).toBe("cancelled");
      expect(done.compensation).toEqual(compensate ? { completed: ["charge"], failed: [], notRun: [] } : null);
    }
    await until(
      () => undo.requests(),
      (requests) => requests.length === 3,
    );
    const paths = (await undo.requests()).map((request) => request.path.split("?")[1]);
    expect(paths.filter((path) => path === "undo=charge")).toHaveLength(1);
  });
});

describe("compensation, interrupted", () => {
  it("lets the compensations finish when cancelled while compensating, then ends cancelled", async () => {
    const user = await signIn("user");
    const ok = await scriptEndpoint([{ status: 200, body: { id: "X" } }]);
    const slowUndo = await scriptEndpoint([{ status: 200, delayMs: 1500 }]);
    const broken = await scriptEndpoint([{ status: 400 }]);
    const workflowId = await workflowWith(user.token, {
      steps: [
        {
          id: "first",
          type: "http",
          request: { url: ok.url, method: "POST" },
          compensate: { type: "http", request: { url: `${slowUndo.url}?undo=first`, method: "DELETE" } },
        },
        {
          id: "second",
          type: "http",
          request: { url: ok.url, method: "POST" },
          compensate: { type: "http", request: { url: `${slowUndo.url}?undo=second`, method: "DELETE" } },
          dependsOn: ["first"],
        },
        { id: "boom", type: "http", request: { url: broken.url, method: "POST" }, dependsOn: ["second"] },
      ],
      timeoutSeconds: 30,
    });
    const id = await start(user.token, workflowId);
    await waitForExecution(user.token, id, (e) => e.status === "compensating");
    const res = await callJson(`/api/v1/executions/${id}/cancel`, { token: user.token, body: {} });
    expect(res.status).toBe(200);
    const done = await waitForExecution(user.token, id, undefined, 30_000);
    expect(done.status).toBe("cancelled");
    expect(done.compensation).toEqual({ completed: ["second", "first"], failed: [], notRun: [] });
    expect((await slowUndo.requests()).map((request) => request.path.split("?")[1])).toEqual([
      "undo=second",
      "undo=first",
    ]);
  });
});

describe("validation of control flow", () => {
  it("reports every problem by path: local names out of place, inner ids, unknown workflows", async () => {
    const user = await signIn("user");
    const wf = await createWorkflow(user.token);
    const res = await callJson(`/api/v1/workflows/${wf.id}/versions`, {
      token: user.token,
      body: {
        definition: {
          steps: [
            { id: "a", type: "transform", output: "{{item}}" },
            {
              id: "each",
              type: "map",
              items: "{{input.list}}",
              step: { type: "transform", output: "{{last}}" },
            },
            { id: "poll", type: "loop", step: { id: "x", type: "transform", output: 1 }, until: "iteration > 2" },
            { id: "sub", type: "workflow", workflow: "no such workflow" },
          ],
        },
      },
    });
    expect(res.status).toBe(422);
    const paths = res.body.error.details.map((detail: { path: string }) => detail.path);
    expect(paths).toContain("definition.steps.2.step");
    const second = await callJson(`/api/v1/workflows/${wf.id}/versions`, {
      token: user.token,
      body: {
        definition: {
          steps: [
            { id: "a", type: "transform", output: "{{item}}" },
            { id: "each", type: "map", items: "{{input.list}}", step: { type: "transform", output: "{{last}}" } },
            { id: "sub", type: "workflow", workflow: "no such workflow" },
          ],
        },
      },
    });
    expect(second.status).toBe(422);
    expect(second.body.error.details).toEqual(
      expect.arrayContaining([
        {
          path: "definition.steps.0.output",
          message: expect.stringContaining("item is defined only in a map's inner step"),
        },
        { path: "definition.steps.1.step.output", message: expect.stringContaining("last is defined only in a loop") },
        { path: "definition.steps.2.workflow", message: expect.stringContaining("no workflow") },
      ]),
    );
  });
});
