import { describe, expect, it } from "vitest";
import { start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { createAgent } from "../helpers/fixtures";
import { callJson } from "../helpers/http";
import { completion, fakeModelAgent } from "../helpers/openai";
import { signIn } from "../helpers/users";

const verdict = {
  type: "object",
  properties: { approved: { type: "boolean" }, reason: { type: "string", minLength: 2 } },
  required: ["approved", "reason"],
  additionalProperties: false,
};

const structured = (agentId: string, extra: Record<string, unknown> = {}) => ({
  id: "judge",
  type: "agent",
  agentId,
  prompt: "Judge {{input.item}}",
  responseFormat: { type: "json_schema", name: "verdict", schema: verdict },
  ...extra,
});

describe("structured output (responseFormat)", () => {
  it("retries an answer that is not JSON or breaks the schema, then fails the step saying why", async () => {
    const admin = await signIn("admin");
    const { endpoint, agent } = await fakeModelAgent(admin.token, [
      completion({ content: "Sure! The item looks fine." }),
      completion({ content: JSON.stringify({ approved: "yes", reason: "ok" }) }),
    ]);
    const workflowId = await workflowWith(admin.token, {
      steps: [structured(agent.id, { retry: { maxAttempts: 2, initialDelayMs: 100 } })],
    });
    const id = await start(admin.token, workflowId, { item: "a lamp" });
    const done = await waitForExecution(admin.token, id, undefined, 30_000);

    expect(done.status).toBe("failed");
    const judge = stepOf(done, "judge");
    expect(judge.status).toBe("failed");
    expect(judge.attempt).toBe(2);
    expect(judge.error).toMatchObject({ reason: "invalid_structured_output" });
    expect(judge.error.message).toBe(
      'the model\'s answer does not match the verdict schema: object.approved: Instance type "string" is invalid. Expected "boolean".',
    );
    const requests = await endpoint.requests();
    expect(requests).toHaveLength(2);
    for (const request of requests) {
      expect(JSON.parse(request.body).response_format).toEqual({
        type: "json_schema",
        json_schema: { name: "verdict", schema: verdict, strict: false },
      });
    }
    const logs = await callJson(`/api/v1/executions/${id}/logs?limit=200`, { token: admin.token });
    // The first attempt's error is in the log too.
    expect(JSON.stringify(logs.body.items)).toContain(
      `the model's answer is not JSON: \\"Sure! The item looks fine.\\"`,
    );
  });

  it("keeps a valid answer as output.object, which later templates and conditions read", async () => {
    const admin = await signIn("admin");
    const { agent } = await fakeModelAgent(admin.token, [
      // A code fence around the JSON is tolerated.
      completion({ content: '```json\n{"approved": true, "reason": "sturdy"}\n```' }),
    ]);
    const workflowId = await workflowWith(admin.token, {
      steps: [
        structured(agent.id),
        {
          id: "gate",
          type: "condition",
          if: "steps.judge.output.object.approved == true",
          then: ["ship"],
          else: ["hold"],
          dependsOn: ["judge"],
        },
        { id: "ship", type: "transform", output: "shipped: {{steps.judge.output.object.reason}}", dependsOn: ["gate"] },
        { id: "hold", type: "transform", output: "held", dependsOn: ["gate"] },
      ],
    });
    const done = await waitForExecution(admin.token, await start(admin.token, workflowId, { item: "a lamp" }));

    expect(done.status).toBe("completed");
    expect(stepOf(done, "judge").output.object).toEqual({ approved: true, reason: "sturdy" });
    expect(stepOf(done, "ship")).toMatchObject({ status: "completed", output: "shipped: sturdy" });
    expect(stepOf(done, "hold").status).toBe("skipped");
  });

  it("has the built-in model answer an object the schema accepts", async () => {
    const admin = await signIn("admin");
    const agent = await createAgent(admin.token);
    const done = await waitForExecution(
      admin.token,
      await start(admin.token, await workflowWith(admin.token, { steps: [structured(agent.id)] }), { item: "x" }),
    );
    expect(done.status).toBe("completed");
    expect(stepOf(done, "judge").output.object).toEqual({ approved: true, reason: "Echo: Judge x" });
  });

  it("refuses a version whose responseFormat schema cannot validate anything", async () => {
    const admin = await signIn("admin");
    const agent = await createAgent(admin.token);
    const { id } = (await callJson("/api/v1/workflows", { token: admin.token, body: { name: `so-${Date.now()}` } }))
      .body;
    const res = await callJson(`/api/v1/workflows/${id}/versions`, {
      token: admin.token,
      body: {
        definition: {
          steps: [structured(agent.id, { responseFormat: { type: "json_schema", schema: { type: "dictionary" } } })],
        },
      },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details).toContainEqual({
      path: "definition.steps.0.responseFormat.schema.type",
      message: 'unknown JSON Schema type "dictionary"',
    });
  });
});
