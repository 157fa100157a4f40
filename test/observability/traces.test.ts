/**
 * OpenTelemetry traces (docs/operations.md): one trace per execution, exported over OTLP/HTTP (JSON) to the
 * outside world's receiver — spans per step attempt and, inside an agent step, per model call
 * and tool call with the GenAI attributes — joining the caller's `traceparent` and passing it on.
 */
import { describe, expect, it } from "vitest";
import { stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { addTool, completion, fakeModelAgent } from "../helpers/openai";
import { scriptEndpoint } from "../helpers/outside";
import { type OtlpSpan, spansUntil } from "../helpers/traces";
import { signIn } from "../helpers/users";

const CALLER = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" };

const attr = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? value?.doubleValue : Number(value.intValue));
};

describe("traces", () => {
  it("exports one trace per execution, joined to the caller's, with GenAI spans for model and tool calls", async () => {
    const admin = await signIn("admin");
    const target = await scriptEndpoint([{ status: 200, body: { ok: true } }]);
    const quote = await scriptEndpoint([{ status: 200, body: { price: 3 } }]);
    const { agent } = await fakeModelAgent(admin.token, [
      completion({ toolCalls: [{ name: "quote", arguments: {} }], usage: { prompt: 40, completion: 6 } }),
      completion({ content: "It costs 3.", usage: { prompt: 60, completion: 5 } }),
    ]);
    await addTool(admin.token, agent.id, { toolName: "quote", toolType: "http", configuration: { url: quote.url } });
    const workflowId = await workflowWith(admin.token, {
      steps: [
        { id: "fetch", type: "http", request: { url: target.url } },
        { id: "ask", type: "agent", agentId: agent.id, prompt: "Price?", dependsOn: ["fetch"] },
      ],
    });
    const started = await callJson(`/api/v1/workflows/${workflowId}/executions`, {
      token: admin.token,
      body: {},
      headers: { traceparent: `00-${CALLER.traceId}-${CALLER.spanId}-01` },
    });
    expect(started.status).toBe(202);
    const id = started.body.id;
    const done = await waitForExecution(admin.token, id, undefined, 30_000);
    expect(done.status).toBe("completed");

    const spans = await spansUntil(CALLER.traceId, (all) => all.some((s) => s.name.startsWith("invoke_workflow")));
    const root = spans.find((s) => s.name === `invoke_workflow ${workflowId}`) as OtlpSpan;
    // The start's answer names the execution's span in the caller's trace.
    expect(started.headers.get("traceparent")).toBe(`00-${CALLER.traceId}-${root.spanId}-01`);
    expect(root.parentSpanId).toBe(CALLER.spanId);
    expect(attr(root, "ipa.execution.id")).toBe(id);

    const fetchSpan = spans.find((s) => s.name === "step fetch") as OtlpSpan;
    const askSpan = spans.find((s) => s.name === `invoke_agent ${agent.id}`) as OtlpSpan;
    expect(fetchSpan.parentSpanId).toBe(root.spanId);
    expect(askSpan.parentSpanId).toBe(root.spanId);
    expect(attr(askSpan, "gen_ai.operation.name")).toBe("invoke_agent");
    expect(attr(askSpan, "gen_ai.agent.id")).toBe(agent.id);

    const chats = spans.filter((s) => s.parentSpanId === askSpan.spanId && s.name === "chat gpt-test");
    expect(chats.map((s) => [attr(s, "gen_ai.usage.input_tokens"), attr(s, "gen_ai.usage.output_tokens")])).toEqual([
      [40, 6],
      [60, 5],
    ]);
    for (const chat of chats) {
      expect(chat.kind).toBe(3); // client
      expect(attr(chat, "gen_ai.operation.name")).toBe("chat");
      expect(attr(chat, "gen_ai.request.model")).toBe("gpt-test");
      expect(attr(chat, "gen_ai.provider.name")).toBe("openai");
    }
    const tool = spans.find((s) => s.name === "execute_tool quote") as OtlpSpan;
    expect(tool.parentSpanId).toBe(askSpan.spanId);
    expect(attr(tool, "gen_ai.tool.call.id")).toBe("call_1");
    expect(BigInt(tool.startTimeUnixNano)).toBeLessThanOrEqual(BigInt(tool.endTimeUnixNano));

    // The http step's target and the tool's joined the trace under their own spans.
    expect((await target.requests())[0].headers.traceparent).toBe(`00-${CALLER.traceId}-${fetchSpan.spanId}-01`);
    expect((await quote.requests())[0].headers.traceparent).toBe(`00-${CALLER.traceId}-${tool.spanId}-01`);
    expect(stepOf(done, "ask").output.text).toBe("It costs 3.");
  });

  it("gives an execution started without a traceparent a trace of its own, and ignores a malformed one", async () => {
    const admin = await signIn("admin");
    const workflowId = await workflowWith(admin.token, { steps: [{ id: "t", type: "transform", output: 1 }] });
    const started = await callJson(`/api/v1/workflows/${workflowId}/executions`, {
      token: admin.token,
      body: {},
      headers: { traceparent: "00-not-a-trace-01" },
    });
    const traceId = started.body.id.replaceAll("-", "");
    expect(started.headers.get("traceparent")).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    await waitForExecution(admin.token, started.body.id);
    const spans = await spansUntil(traceId, (all) => all.some((s) => s.name.startsWith("invoke_workflow")));
    expect(spans.find((s) => s.name.startsWith("invoke_workflow"))?.parentSpanId).toBeUndefined();
    expect(spans.map((s) => s.name).sort()).toEqual([`invoke_workflow ${workflowId}`, "step t"]);

    // Any other answer carries a traceparent too (the caller's trace when it sent one).
    const read = await callJson("/api/v1/workflows", {
      token: admin.token,
      headers: { traceparent: `00-${CALLER.traceId}-${CALLER.spanId}-01` },
    });
    expect(read.headers.get("traceparent")).toMatch(new RegExp(`^00-${CALLER.traceId}-[0-9a-f]{16}-01$`));
  });
});
